/** The base tables of the public sample databases `./vsc test` loads (shared/data), in name order. */
export const SAKILA_TABLES = [
  'actor',
  'address',
  'category',
  'city',
  'country',
  'customer',
  'film',
  'film_actor',
  'film_category',
  'film_text',
  'inventory',
  'language',
  'payment',
  'rental',
  'staff',
  'store',
];

/** Pagila's, without the partitions of `payment` (a copy goes through the parent). */
export const PAGILA_TABLES = SAKILA_TABLES.filter((t) => t !== 'film_text');

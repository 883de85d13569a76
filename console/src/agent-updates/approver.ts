/**
 * Who approved, in words: the gateway records `person:<user id>` (or `token:<id>`, or the admin
 * token's actor); a person is named by their email address when they are a member.
 */
export function approverText(actor: string, members: readonly { userId: string; email: string }[]): string {
  const [kind, id] = actor.split(/:(.*)/s, 2);
  if (kind === 'person') return members.find((m) => m.userId === id)?.email ?? 'a person who is no longer a member';
  if (kind === 'token') return `the tenant token ${id}`;
  return actor;
}

import { defineSearchAttributeKey } from '@temporalio/common';

/** Custom search attributes every Vansales workflow carries, so operators can filter runs. */
export const SearchAttribute = {
  TenantId: defineSearchAttributeKey('TenantId', 'KEYWORD'),
  ConnectorId: defineSearchAttributeKey('ConnectorId', 'KEYWORD'),
  DefinitionId: defineSearchAttributeKey('DefinitionId', 'KEYWORD'),
  /** A definition run's pinned version (issue 10). */
  DefinitionVersion: defineSearchAttributeKey('DefinitionVersion', 'INT'),
  /** Every connector a definition run's steps touch, so control flags and the Web UI find runs by connector. */
  ConnectorIds: defineSearchAttributeKey('ConnectorIds', 'KEYWORD_LIST'),
} as const;

export const SEARCH_ATTRIBUTE_NAMES = Object.keys(SearchAttribute) as (keyof typeof SearchAttribute)[];

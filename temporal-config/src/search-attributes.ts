import { defineSearchAttributeKey } from '@temporalio/common';

/** Custom search attributes every Vansales workflow carries, so operators can filter runs. */
export const SearchAttribute = {
  TenantId: defineSearchAttributeKey('TenantId', 'KEYWORD'),
  ConnectorId: defineSearchAttributeKey('ConnectorId', 'KEYWORD'),
  DefinitionId: defineSearchAttributeKey('DefinitionId', 'KEYWORD'),
} as const;

export const SEARCH_ATTRIBUTE_NAMES = Object.keys(SearchAttribute) as (keyof typeof SearchAttribute)[];

// The AI path (issue 11 item 5): prose documentation -> a draft OpenAPI document for review, and field
// mapping suggestions. The model never writes code; its output is validated like any upload.
export { AiConfig, aiConfigFromEnv } from './ai-config';
export { AiError, AiErrorCode } from './ai-errors';
export { createModelClient, type ModelClient } from './model-client';
export {
  draftSpecFromDocs,
  validateDraft,
  type DraftValidation,
  extractDocument,
  DRAFT_SPEC_SYSTEM,
  type DraftSpec,
  type DraftSpecInput,
  type SpecValidator,
} from './draft-spec';
export {
  suggestMapping,
  checkMappings,
  mappingExpression,
  operationFields,
  SUGGEST_MAPPING_SYSTEM,
  type FieldInfo,
  type FieldMapping,
  type MappingSide,
  type MappingSuggestion,
} from './suggest-mapping';
export { redactSecrets, type Redaction } from './redact';
export { htmlToText, docsToText, type DocsFormat } from './docs-text';

// The AI path's one error registry. Every failure says what the user can do about it; none carries
// the documentation, a model answer or a key (they may hold what the user did not mean to share).
export const AiErrorCode = {
  /** No key configured: the AI path is optional and says how to turn it on. */
  NOT_CONFIGURED: 'AI_NOT_CONFIGURED',
  INPUT_TOO_LARGE: 'AI_INPUT_TOO_LARGE',
  INPUT_EMPTY: 'AI_INPUT_EMPTY',
  /** The model's service refused or failed (status given; retryable when it says so). */
  MODEL_UNAVAILABLE: 'AI_MODEL_UNAVAILABLE',
  /** The answer was cut at the token limit. */
  ANSWER_TRUNCATED: 'AI_ANSWER_TRUNCATED',
  /** The answer held no document or no well-formed suggestion. */
  ANSWER_UNUSABLE: 'AI_ANSWER_UNUSABLE',
} as const;
export type AiErrorCode = (typeof AiErrorCode)[keyof typeof AiErrorCode];

export class AiError extends Error {
  override name = 'AiError';
  constructor(
    readonly code: AiErrorCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

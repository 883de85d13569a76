import Anthropic from '@anthropic-ai/sdk';
import { AiError, AiErrorCode } from './ai-errors';
import type { AiConfig } from './ai-config';

/** One question to the model and its whole text answer; the only place the factory talks to it. */
export interface ModelClient {
  ask(request: { system: string; user: string }): Promise<string>;
}

export function createModelClient(config: AiConfig): ModelClient {
  if (!config.apiKey)
    throw new AiError(
      AiErrorCode.NOT_CONFIGURED,
      'the AI path needs an Anthropic API key: set ANTHROPIC_API_KEY for the process that runs the SDK factory',
    );
  const client = new Anthropic({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
  });
  return {
    async ask({ system, user }) {
      let answer: Anthropic.Message;
      try {
        answer = await client.messages.create({
          model: config.model,
          max_tokens: config.maxTokens,
          system,
          messages: [{ role: 'user', content: user }],
        });
      } catch (err) {
        throw modelFailure(err);
      }
      if (answer.stop_reason === 'max_tokens')
        throw new AiError(
          AiErrorCode.ANSWER_TRUNCATED,
          `the model's answer was cut at ${config.maxTokens} tokens: give it a shorter part of the documentation (one resource at a time) or raise VSC_AI_MAX_TOKENS`,
        );
      return answer.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    },
  };
}

/** The SDK's errors carry the request (and headers) in their fields: keep only the status and a plain reason. */
function modelFailure(err: unknown): AiError {
  if (err instanceof Anthropic.APIError) {
    const status = err.status;
    if (status === 401 || status === 403)
      return new AiError(
        AiErrorCode.MODEL_UNAVAILABLE,
        `the model's service refused the API key (HTTP ${status}): check ANTHROPIC_API_KEY`,
      );
    const retryable = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
    return new AiError(
      AiErrorCode.MODEL_UNAVAILABLE,
      `the model's service did not answer (${status === undefined ? 'no connection' : `HTTP ${status}`})${retryable ? ': try again later' : ''}`,
      retryable,
    );
  }
  return new AiError(AiErrorCode.MODEL_UNAVAILABLE, "the model's service could not be reached: try again later", true);
}

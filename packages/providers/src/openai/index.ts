import { openAiCompatible } from '../openai-compatible/index.js';

/** OpenAI itself: the compatible base with OpenAI's default base URL. */
export const adapter = openAiCompatible('openai', 'https://api.openai.com/v1');

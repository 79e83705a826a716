import { openAiCompatible } from '../openai-compatible/index.js';
import type { ProviderAdapter } from '../types.js';
import { deepseekOptions } from './chat.js';

/**
 * DeepSeek on the compatible base (its differences in chat.ts). DeepSeek has no embeddings endpoint: the
 * adapter has none. Its error bodies are OpenAI's (`{"error":{message,type,param,code}}`).
 */
const base = openAiCompatible('deepseek', 'https://api.deepseek.com', deepseekOptions);
export const adapter: ProviderAdapter = { type: base.type, defaultBaseUrl: base.defaultBaseUrl, chat: base.chat };

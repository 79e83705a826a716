import { openAiCompatible } from '../openai-compatible/index.js';

/** The provider simulator of packages/testing speaks the OpenAI format; its URL comes from the config (SIMULATOR_URL). */
export const adapter = openAiCompatible('simulator', null);

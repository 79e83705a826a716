import { openAiCompatible } from '../openai-compatible/index.js';
import { mistralOptions } from './chat.js';
import { parseError } from './errors.js';

/** Mistral (chat completions, embeddings) on the compatible base; its differences are in chat.ts. */
export const adapter = openAiCompatible('mistral', 'https://api.mistral.ai/v1', mistralOptions, parseError);

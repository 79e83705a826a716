import { openAiCompatible } from '../openai-compatible/index.js';
import { azureOptions } from './chat.js';
import { parseError } from './errors.js';

/** Azure OpenAI (deployment URLs, `api-version`, `api-key` or Entra token) on the compatible base. No default base URL. */
export const adapter = openAiCompatible('azure-openai', null, azureOptions, parseError);

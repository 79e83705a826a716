import { GatewayError, type ChatMessage, type ContentPart } from '@gw/contracts';
import { isHttpUrl, parseDataUrl, parseToolArguments, partsOf, textOf } from '../shared/content.js';

/**
 * OpenAI chat messages → Bedrock Converse turns (chat.ts builds the rest of the request around them):
 * - system and developer messages are not turns (chat.ts sends them as `system`); user/assistant/tool messages
 *   become alternating user/assistant turns (same-role neighbours merged; tool results are `toolResult` blocks of a
 *   user turn);
 * - images must be bytes: data URLs → `image.source.bytes` (png, jpeg, gif, webp); an http(s) URL that still reaches
 *   here (the executor fetches them first: adapter.needsImageBytes) is a 400 naming the part;
 * - inline files (base64 data URLs) → `document` blocks.
 */

type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';
export type TextBlock = { text: string };
type ImageBlock = { image: { format: ImageFormat; source: { bytes: string } } };
type DocumentBlock = { document: { format: string; name: string; source: { bytes: string } } };
type ToolUseBlock = { toolUse: { toolUseId: string; name: string; input: unknown } };
type ToolResultBlock = { toolResult: { toolUseId: string; content: Array<TextBlock | ImageBlock> } };
export type BedrockBlock = TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock;
export type BedrockMessage = { role: 'user' | 'assistant'; content: BedrockBlock[] };

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
const DOCUMENT_FORMATS: Record<string, string> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

function imageBlock(url: string, param: string): ImageBlock {
  const data = parseDataUrl(url);
  if (!data) {
    const why = isHttpUrl(url)
      ? 'the image was not fetched (this provider takes image bytes only)'
      : 'an image must be an http(s) URL or a base64 data URL';
    throw new GatewayError('INVALID_REQUEST', `${param}: ${why}`, { param });
  }
  const format = IMAGE_FORMATS[data.mimeType];
  if (!format)
    throw new GatewayError(
      'INVALID_REQUEST',
      `${param}: image type ${data.mimeType} is not supported by this provider (png, jpeg, gif, webp)`,
      { param },
    );
  return { image: { format, source: { bytes: data.data } } };
}

/** Bedrock document names: letters, digits, spaces, hyphens, parentheses and brackets. */
function documentName(file: Record<string, unknown>, n: number): string {
  const raw = typeof file['filename'] === 'string' ? file['filename'].replace(/\.[^.]*$/, '') : '';
  const clean = raw
    .replace(/[^A-Za-z0-9 \-()[\]]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean || `document ${n}`;
}

function userBlocks(
  content: string | ContentPart[],
  param: string,
): Array<TextBlock | ImageBlock | DocumentBlock> {
  const out: Array<TextBlock | ImageBlock | DocumentBlock> = [];
  const parts = partsOf(content);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const at = `${param}[${i}]`;
    switch (p.type) {
      case 'text':
        if (p.text.length) out.push({ text: p.text });
        break;
      case 'refusal':
        if (p.refusal.length) out.push({ text: p.refusal });
        break;
      case 'image_url':
        out.push(imageBlock(p.image_url.url, at));
        break;
      case 'file': {
        const fileData = p.file['file_data'];
        const data = typeof fileData === 'string' ? parseDataUrl(fileData) : null;
        const format = data ? DOCUMENT_FORMATS[data.mimeType] : undefined;
        if (!data || !format)
          throw new GatewayError(
            'INVALID_REQUEST',
            `${at}: only documents given inline as base64 data URLs (pdf, csv, doc, docx, xls, xlsx, html, txt, md) are supported by this provider`,
            { param: at },
          );
        out.push({ document: { format, name: documentName(p.file, i + 1), source: { bytes: data.data } } });
        break;
      }
      case 'input_audio':
        throw new GatewayError('INVALID_REQUEST', `${at}: audio input is not supported by this provider`, {
          param: at,
        });
    }
  }
  return out;
}

function toolResultContent(content: string | ContentPart[], param: string): Array<TextBlock | ImageBlock> {
  const out: Array<TextBlock | ImageBlock> = [];
  for (const b of userBlocks(content, param)) if (!('document' in b)) out.push(b);
  // Bedrock refuses an empty tool result; an empty answer is still an answer
  return out.length ? out : [{ text: '' }];
}

export function toBedrockMessages(messages: readonly ChatMessage[]): BedrockMessage[] {
  const out: BedrockMessage[] = [];
  const push = (role: BedrockMessage['role'], blocks: BedrockBlock[]) => {
    if (!blocks.length) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        break;
      case 'user':
        push('user', userBlocks(m.content, `${param}.content`));
        break;
      case 'assistant': {
        const blocks: BedrockBlock[] = [];
        const text = textOf(m.content);
        if (text.trim().length) blocks.push({ text });
        const calls = m.tool_calls ?? [];
        for (let j = 0; j < calls.length; j++) {
          const c = calls[j]!;
          blocks.push({
            toolUse: {
              toolUseId: c.id,
              name: c.function.name,
              input: parseToolArguments(c.function.arguments, `${param}.tool_calls[${j}].function.arguments`),
            },
          });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [
          {
            toolResult: {
              toolUseId: m.tool_call_id,
              content: toolResultContent(m.content, `${param}.content`),
            },
          },
        ]);
        break;
    }
  }
  return out;
}

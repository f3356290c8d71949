import { llm, type voice } from '@livekit/agents';
import type { NormalizedImage } from '../media/index.ts';
import { APP_WRITTEN } from './user-words.ts';

/** A normalized image as a data URL the language model plugin sends as is. */
export function imageDataUrl(image: Pick<NormalizedImage, 'data' | 'mime'>): string {
  return `data:${image.mime};base64,${image.data.toString('base64')}`;
}

/** Keeps user-supplied file names from carrying instructions or layout into the prompt. */
export function safeFileName(fileName: string): string {
  const cleaned = fileName
    .replace(/[\p{C}"`<>[\]{}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return (cleaned || 'file').slice(0, 80);
}

/**
 * Adds an uploaded image to the agent's chat context for every following turn, in a
 * user message (vision APIs accept images only there).
 */
export async function addUploadedImage(
  agent: voice.Agent,
  image: Pick<NormalizedImage, 'data' | 'mime'>,
  fileName: string,
): Promise<void> {
  const context = agent.chatCtx.copy();
  context.addMessage({
    role: 'user',
    // Written by the app: not the user's words (tools that need those skip it).
    extra: { [APP_WRITTEN]: true },
    content: [
      `(I uploaded an image named "${safeFileName(fileName)}". Use it to answer my next questions.)`,
      llm.createImageContent({ image: imageDataUrl(image), inferenceDetail: 'auto', mimeType: image.mime }),
    ],
  });
  await agent.updateChatCtx(context);
}

/**
 * OpenAI chat models that take image input, by name (a dated snapshot such as
 * `gpt-4o-2024-08-06` counts as its model). Used to default VISION_MODEL to LLM_MODEL
 * when the language model is OpenAI's: one key then reads pictures and scanned pages.
 * Kept short on purpose: a model missing here only means VISION_MODEL must be set.
 */
const FAMILIES = [
  'gpt-4o',
  'gpt-4o-mini',
  'chatgpt-4o-latest',
  'gpt-4-turbo',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4.1-nano',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
  'gpt-5.1',
  'o1',
  'o3',
  'o4-mini',
];

const DATED = /-\d{4}-\d{2}-\d{2}$/;

/** Whether OpenAI's model `model` reads images. */
export function openAIModelReadsImages(model: string): boolean {
  return FAMILIES.includes(model.trim().toLowerCase().replace(DATED, ''));
}

/** The families, for documentation and messages. */
export const OPENAI_VISION_FAMILIES: readonly string[] = FAMILIES;

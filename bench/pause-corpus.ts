import { concatenatePcm, silence } from '../test/fakes/audio-signal.ts';
import { joinPrompts, SAMPLE_RATE, type SpokenClip } from './human-speech.ts';

/**
 * The pause corpus: real recorded speech (the asterisk prompts) spliced so that the
 * speaker stops in the middle of a sentence for 300 to 1200 ms and then goes on. An
 * agent that starts answering during the pause has cut them off. Each sentence is a
 * fragment that cannot end there, a pause, and its continuation; the words are what
 * Deepgram would send for each part (smart formatting writes digits as numerals, and
 * punctuation closes only the finished sentence).
 */

interface Sentence {
  first: { prompts: string[]; text: string };
  rest: { prompts: string[]; text: string };
}

const digits = (value: string) => [...value].map((digit) => `digits/${digit}`);

const SENTENCES: readonly Sentence[] = [
  {
    first: { prompts: ['vm-num-i-have'], text: 'The number I have is' },
    rest: { prompts: digits('5551234'), text: '555 1234.' },
  },
  {
    first: { prompts: ['vm-num-i-have', ...digits('555')], text: 'The number I have is 555' },
    rest: { prompts: digits('1234'), text: '1234.' },
  },
  {
    first: { prompts: ['queue-thereare'], text: 'You are currently caller number' },
    rest: { prompts: ['digits/3'], text: '3.' },
  },
  {
    first: { prompts: ['queue-holdtime'], text: 'The estimated hold time is currently' },
    rest: { prompts: ['digits/5', 'queue-minutes'], text: '5 minutes.' },
  },
  {
    first: { prompts: ['conf-enteringno'], text: 'You are entering conference number' },
    rest: { prompts: digits('42'), text: '42.' },
  },
  {
    first: { prompts: ['conf-thereare'], text: 'There are currently' },
    rest: { prompts: ['digits/3', 'conf-otherinparty'], text: '3 other participants in the conference.' },
  },
  {
    first: { prompts: ['vm-youhave'], text: 'You have' },
    rest: { prompts: ['digits/2', 'vm-messages'], text: '2 messages.' },
  },
  {
    first: { prompts: ['at-tone-time-exactly'], text: 'At the sound of the tone, the time will be exactly' },
    rest: { prompts: ['digits/3', 'digits/oclock'], text: "3 o'clock." },
  },
  {
    first: { prompts: ['followme/call-from'], text: 'Incoming call from' },
    rest: { prompts: ['vm-extension', ...digits('21')], text: 'extension 21.' },
  },
];

/** Pause lengths in ms; every sentence is spoken once with each. */
export const PAUSES_MS = [300, 500, 700, 900, 1200] as const;

/** Every sentence with every pause: 45 utterances, sentence by sentence. */
export function pauseCorpus(): SpokenClip[] {
  const clips: SpokenClip[] = [];
  for (const [index, sentence] of SENTENCES.entries()) {
    const first = joinPrompts(sentence.first.prompts);
    const rest = joinPrompts(sentence.rest.prompts);
    for (const pauseMs of PAUSES_MS) {
      const gap = silence(pauseMs, SAMPLE_RATE);
      clips.push({
        id: `pause-${index + 1}-${pauseMs}`,
        samples: concatenatePcm(first, gap, rest),
        sampleRate: SAMPLE_RATE,
        segments: [
          { startSample: 0, text: sentence.first.text },
          { startSample: first.length + gap.length, text: sentence.rest.text },
        ],
        pauseMs,
      });
    }
  }
  return clips;
}

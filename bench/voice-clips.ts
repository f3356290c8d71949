import { speechFixture } from '../test/support/voice-harness.ts';
import { humanPrompts, type SpokenClip } from './human-speech.ts';
import { pauseCorpus } from './pause-corpus.ts';
import type { VoiceRig } from './voice-rig.ts';
import type { RigSession } from './voice-rig.ts';
import type { Spoken } from './microphone.ts';
import { QUESTIONS } from './voice-script.ts';

/**
 * The spoken turns of the voice benchmarks: synthetic (the committed espeak-ng
 * questions), human (recorded prompts) and the pause corpus (human speech with a
 * mid-sentence pause), each a clip with the words the STT fake says for its segments.
 */

export type SpeechKind = 'synthetic' | 'human' | 'pauses';

/** The espeak-ng questions as clips. */
export function syntheticClips(): SpokenClip[] {
  return QUESTIONS.map((question) => ({
    id: question.fixture,
    ...speechFixture(question.fixture),
    segments: [{ startSample: 0, text: question.transcript }],
  }));
}

/** Every clip of one kind, loaded once. */
export function clipsOf(kind: SpeechKind): SpokenClip[] {
  if (kind === 'synthetic') return syntheticClips();
  return kind === 'human' ? humanPrompts() : pauseCorpus();
}

/** Speaks a clip into a session; the STT fake learns each segment's words as it starts. */
export function speak(
  rig: VoiceRig,
  session: Pick<RigSession, 'microphone'>,
  clip: SpokenClip,
): Promise<Spoken> {
  return session.microphone.say(
    clip,
    clip.segments.map((segment) => ({ sample: segment.startSample, run: () => rig.hear(segment.text) })),
  );
}

/**
 * Whether the agent took the turn before the speaker finished: a turn was committed
 * after the clip's onset and before its last voiced frame (in the pause, or as they
 * went on, before the VAD heard them again).
 */
export function cutOff(session: RigSession, spoken: Spoken): boolean {
  return session.records.some(
    (record) => record.kind === 'eou' && record.at > spoken.onsetAt && record.at < spoken.lastVoicedAt,
  );
}

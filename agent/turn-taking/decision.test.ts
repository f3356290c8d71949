import { describe, expect, it } from 'vitest';
import { audioVerdict, decideTurn, TURN_TAKING, type TurnFeatures } from './decision.ts';
import { textShape } from './text-shape.ts';

/** v1-mini's English threshold, and probabilities it gives in each of its verdicts. */
const THRESHOLD = 0.36;
const AUDIO = { finished: 0.8, unsure: 0.25, goingOn: 0.03 } as const;

const features = (text: string, audioProbability: number, textIsFinal = true): TurnFeatures => ({
  text,
  textIsFinal,
  audioProbability,
  audioThreshold: THRESHOLD,
});

describe('textShape', () => {
  it.each([
    ['What is the part number of the blue valve?', 'question'],
    ['what is my locker code', 'question'],
    ['can you tell me the time', 'question'],
    ['Please remember that my locker code is 4312.', 'complete'],
    ['thank you', 'complete'],
    ['I would like to book a table and', 'trailing'],
    ['so I went to the', 'trailing'],
    ['I was thinking, um', 'trailing'],
    ['The time will be exactly...', 'trailing'],
    ['my number is five five five', 'number'],
    ['my number is 555', 'number'],
    ['the code is seven', 'number'],
    ['my code is four three one two', 'open'],
    ['You are currently caller number 3.', 'complete'],
    ['There are three other participants in the conference', 'open'],
    ['', 'none'],
  ])('%j is %s', (text, shape) => {
    expect(textShape(text)).toBe(shape);
  });

  it('lets a trailing word win over a period the STT added at its endpoint', () => {
    expect(textShape('I want to order the.')).toBe('trailing');
  });
});

describe('decideTurn', () => {
  it('answers a complete question at once even when the audio model doubts it', () => {
    const decision = decideTurn(features('What is the part number of the blue valve?', AUDIO.unsure));
    expect(decision).toMatchObject({ verdict: 'finished', waitMs: 0, shape: 'question', audio: 'unsure' });
  });

  it('never waits the full maximum on a complete question, even against the audio', () => {
    const decision = decideTurn(features('What is my locker code?', AUDIO.goingOn));
    expect(decision.waitMs).toBeLessThan(TURN_TAKING.maxDelayMs);
    expect(decision.verdict).toBe('unsure');
  });

  it('waits the long wait on a trailing conjunction unless the audio is sure', () => {
    expect(decideTurn(features('I need a plumber and', AUDIO.unsure))).toMatchObject({
      verdict: 'mid-thought',
      waitMs: TURN_TAKING.maxDelayMs,
      shape: 'trailing',
    });
    const sure = decideTurn(features('I need a plumber and', AUDIO.finished));
    expect(sure.verdict).toBe('unsure');
    expect(sure.waitMs).toBe(1500);
  });

  it('waits while a number is being read out', () => {
    const decision = decideTurn(features('my phone number is five five five', AUDIO.unsure));
    expect(decision).toMatchObject({ verdict: 'mid-thought', shape: 'number' });
  });

  it('commits early when words and audio agree the statement is finished', () => {
    expect(
      decideTurn(features('Please remember that my locker code is 4312.', AUDIO.finished)),
    ).toMatchObject({ verdict: 'finished', waitMs: 0 });
    expect(decideTurn(features('All circuits are busy now.', AUDIO.unsure)).waitMs).toBe(0);
  });

  it('waits after words the STT did not close, even when the audio sounds finished', () => {
    expect(decideTurn(features('There are currently', AUDIO.finished))).toMatchObject({
      verdict: 'unsure',
      waitMs: 1500,
      shape: 'open',
    });
    expect(decideTurn(features('There are currently', AUDIO.goingOn)).verdict).toBe('mid-thought');
  });

  it('does not take a finished-looking interim at its word before the final comes', () => {
    const interim = decideTurn(features('What is my locker code?', AUDIO.unsure, false));
    expect(interim.shape).toBe('none');
    expect(interim.waitMs).toBeGreaterThan(0);
    // A trailing interim already says "going on".
    expect(decideTurn(features('I need a plumber and', AUDIO.unsure, false)).shape).toBe('trailing');
  });

  it('decides from the words alone when the audio model gave nothing', () => {
    const decision = decideTurn({ ...features('What is my locker code?', 0), audioProbability: undefined });
    expect(decision).toMatchObject({ audio: 'unsure', verdict: 'finished' });
  });
});

describe('audioVerdict', () => {
  it('reads the probability against the model threshold and the going-on floor', () => {
    expect(audioVerdict(0.36, THRESHOLD)).toBe('finished');
    expect(audioVerdict(0.2, THRESHOLD)).toBe('unsure');
    expect(audioVerdict(TURN_TAKING.audioGoingOnBelow - 0.01, THRESHOLD)).toBe('going-on');
    expect(audioVerdict(undefined, THRESHOLD)).toBe('unsure');
  });
});

import { describe, expect, it } from 'vitest';
import { chunkTranscript, speakerLabel, type TimedUtterance } from './transcription.ts';

const said = (startMs: number, endMs: number, speaker: number | null, text: string): TimedUtterance => ({
  startMs,
  endMs,
  speaker,
  text,
});

describe('chunkTranscript', () => {
  it('keeps a passage’s time range and the speaker at its start, naming each change of speaker', () => {
    const chunks = chunkTranscript({
      durationMs: 9000,
      utterances: [
        said(100, 2000, 0, 'We should cut the travel budget.'),
        said(2100, 3000, 0, 'By a third.'),
        said(3500, 6000, 1, 'Agreed, starting in March.'),
      ],
    });
    expect(chunks).toEqual([
      {
        text: 'Speaker 1: We should cut the travel budget. By a third.\nSpeaker 2: Agreed, starting in March.',
        pageStart: null,
        pageEnd: null,
        heading: null,
        tokens: 24, // 94 characters, a token per 4
        startMs: 100,
        endMs: 6000,
        speaker: 'Speaker 1',
      },
    ]);
  });

  it('starts a new passage when the time window is full, so a citation is never far from its words', () => {
    const utterances = Array.from({ length: 6 }, (_, index) =>
      said(index * 30_000, index * 30_000 + 20_000, index % 2, `Point number ${index + 1}.`),
    );
    const chunks = chunkTranscript({ durationMs: 180_000, utterances }, { maxWindowMs: 60_000 });
    expect(chunks.map((chunk) => [chunk.startMs, chunk.endMs, chunk.speaker])).toEqual([
      [0, 50_000, 'Speaker 1'],
      [60_000, 110_000, 'Speaker 1'],
      [120_000, 170_000, 'Speaker 1'],
    ]);
    expect(chunks[1]?.text).toBe('Speaker 1: Point number 3.\nSpeaker 2: Point number 4.');
  });

  it('cuts an utterance longer than a passage between words, sharing out its time, without speakers when unknown', () => {
    const words = Array.from({ length: 100 }, (_, index) => `word${index}`).join(' ');
    const chunks = chunkTranscript(
      { durationMs: 100_000, utterances: [said(0, 100_000, null, words)] },
      {
        targetTokens: 60,
      },
    );
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.every((chunk) => chunk.tokens <= 60 && chunk.speaker === null)).toBe(true);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(words);
    expect(chunks[0]?.startMs).toBe(0);
    expect(chunks.at(-1)?.endMs).toBe(100_000);
    for (const [index, chunk] of chunks.entries()) {
      const firstWord = Number(/^word(\d+)/.exec(chunk.text)?.[1]);
      expect(chunk.startMs).toBe(firstWord * 1000);
      if (index > 0) expect(chunk.startMs).toBe(chunks[index - 1]?.endMs);
    }
  });

  it('drops empty utterances and makes nothing of silence', () => {
    expect(chunkTranscript({ durationMs: 5000, utterances: [said(0, 100, 0, '  ')] })).toEqual([]);
    expect(speakerLabel(0)).toBe('Speaker 1');
    expect(speakerLabel(null)).toBeNull();
  });
});

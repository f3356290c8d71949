import { describe, expect, it } from 'vitest';
import { Transcript } from './transcript.ts';

describe('Transcript', () => {
  it('replaces interim text with the final text in the same line', () => {
    const transcript = new Transcript();
    transcript.apply({ type: 'transcript', role: 'user', text: 'what is', final: false });
    transcript.apply({ type: 'transcript', role: 'user', text: 'what is the part', final: false });
    transcript.apply({ type: 'transcript', role: 'user', text: 'What is the part number?', final: true });
    expect(transcript.lines).toMatchObject([{ role: 'user', text: 'What is the part number?', final: true }]);
  });

  it('keeps each role in its own line when they interleave', () => {
    const transcript = new Transcript();
    transcript.apply({ type: 'transcript', role: 'assistant', text: 'The valve', final: false });
    transcript.apply({ type: 'transcript', role: 'user', text: 'wait', final: false });
    transcript.apply({
      type: 'transcript',
      role: 'assistant',
      text: 'The valve is',
      final: true,
      interrupted: true,
    });
    transcript.apply({ type: 'transcript', role: 'user', text: 'Wait.', final: true });
    transcript.apply({ type: 'transcript', role: 'assistant', text: 'Yes?', final: false });
    expect(transcript.lines.map((line) => [line.role, line.text, line.final, line.interrupted])).toEqual([
      ['assistant', 'The valve is', true, true],
      ['user', 'Wait.', true, false],
      ['assistant', 'Yes?', false, false],
    ]);
  });

  it('keeps citations on the final answer, also when they arrive in a second final message', () => {
    const transcript = new Transcript();
    const citation = { documentId: 'd1', title: 'Boiler manual', page: 3 };
    transcript.apply({ type: 'transcript', role: 'assistant', text: 'It is ZX-4471.', final: true });
    transcript.apply({
      type: 'transcript',
      role: 'assistant',
      text: 'It is ZX-4471.',
      final: true,
      citations: [citation],
    });
    expect(transcript.lines).toHaveLength(1);
    expect(transcript.lines[0]?.citations).toEqual([citation]);
  });

  it('drops an answer that was interrupted before any word', () => {
    const transcript = new Transcript();
    transcript.apply({ type: 'transcript', role: 'assistant', text: '', final: false });
    expect(transcript.lines).toEqual([]);
    transcript.apply({ type: 'transcript', role: 'assistant', text: 'The valve', final: false });
    transcript.apply({ type: 'transcript', role: 'assistant', text: '', final: true, interrupted: true });
    expect(transcript.lines).toEqual([]);
    transcript.apply({ type: 'transcript', role: 'assistant', text: 'Yes?', final: true });
    expect(transcript.lines.map((line) => line.text)).toEqual(['Yes?']);
  });

  it("attaches a turn's timings to its answer, also when they arrive before the answer (LiveKit)", () => {
    const transcript = new Transcript();
    const timings = (turnId: string) => ({
      type: 'turn_timings' as const,
      turnId,
      startedAt: '2026-11-29T10:00:00.000Z',
      modality: 'voice' as const,
      stages: [{ name: 'llm' as const, startMs: 100, endMs: 700, firstMs: 450 }],
      voiceToVoiceMs: 900,
      interrupted: false,
      citations: [],
    });
    transcript.apply({
      type: 'transcript',
      role: 'assistant',
      text: 'First.',
      final: true,
      turnId: 'turn-1',
    });
    expect(transcript.attachTimings(timings('turn-1'))).toMatchObject({
      text: 'First.',
      timings: { turnId: 'turn-1' },
    });

    expect(transcript.attachTimings(timings('turn-2'))).toBeUndefined();
    // LiveKit: the transcription stream's final text first, then the same text with its turn id.
    transcript.apply({ type: 'transcript', role: 'assistant', text: 'Second.', final: true });
    const line = transcript.apply({
      type: 'transcript',
      role: 'assistant',
      text: 'Second.',
      final: true,
      turnId: 'turn-2',
    });
    expect(line).toMatchObject({ text: 'Second.', timings: { turnId: 'turn-2' } });
    expect(transcript.lines).toHaveLength(2);
  });
});

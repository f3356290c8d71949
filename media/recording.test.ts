import { describe, expect, it } from 'vitest';
import { MEETING_FILES, recordingFixture } from '../test/fixtures/recordings/meeting.ts';
import { describeDuration, inspectRecording } from './recording.ts';
import { identifyMedia } from './sniff.ts';
import { splitWav } from './wav-pieces.ts';

const limits = { maxBytes: 25 * 1024 * 1024, maxRecordingMs: 60_000 };

describe('recordings', () => {
  it.each(MEETING_FILES)(
    'knows %s for a recording from its bytes, and reads its length from the headers',
    async (name) => {
      const bytes = recordingFixture(name);
      // Named as something else: the bytes decide.
      const media = await identifyMedia(bytes, { fileName: 'upload.bin' }, limits);
      expect(media.kind).toBe('recording');
      const summary = await inspectRecording(bytes, media.mime, limits);
      expect(summary.durationMs).toBeGreaterThanOrEqual(6400);
      expect(summary.durationMs).toBeLessThanOrEqual(6500);
      expect(summary.video).toBe(name === 'meeting.mp4');
    },
  );

  it('refuses a recording whose headers give no length, and one over the limit', async () => {
    await expect(
      inspectRecording(recordingFixture('corrupt.ogg'), 'audio/ogg', limits),
    ).rejects.toMatchObject({
      code: 'corrupt',
      userFacing: true,
    });
    await expect(
      inspectRecording(recordingFixture('meeting.wav'), 'audio/wav', { maxRecordingMs: 6000 }),
    ).rejects.toMatchObject({
      code: 'too-long',
      message: expect.stringMatching(/6 seconds long; the limit is 6 seconds/),
    });
  });

  it('refuses a recording named as a PDF, and a recording format it does not take', async () => {
    await expect(
      identifyMedia(recordingFixture('meeting.mp3'), { fileName: 'x.pdf' }, limits),
    ).rejects.toMatchObject({
      code: 'type-mismatch',
    });
    // An AIFF file: audio, but not a container the transcription services take.
    const aiff = Buffer.concat([
      Buffer.from('FORM'),
      Buffer.alloc(4),
      Buffer.from('AIFFCOMM'),
      Buffer.alloc(30),
    ]);
    await expect(identifyMedia(aiff, { fileName: 'x.aiff' }, limits)).rejects.toMatchObject({
      code: 'unsupported-type',
      message: expect.stringMatching(/Save it as MP3, M4A, WAV or FLAC/),
    });
  });

  it('says lengths as people do', () => {
    expect(describeDuration(6_400)).toBe('6 seconds');
    expect(describeDuration(42 * 60_000)).toBe('42 minutes');
    expect(describeDuration(125_000)).toBe('2 minutes 5 seconds');
    expect(describeDuration(65 * 60_000)).toBe('1 hour 5 minutes');
    expect(describeDuration(120 * 60_000)).toBe('2 hours');
  });

  it('cuts a WAV into valid WAV pieces between samples, and nothing else', async () => {
    const wav = recordingFixture('meeting.wav');
    const pieces = splitWav(wav, 50_000) ?? [];
    expect(pieces.length).toBe(5);
    // 50,000 bytes less the 44-byte header is 24,978 16-bit samples at 16 kHz: 1,561.125 ms.
    expect(pieces.map((piece) => piece.offsetMs)).toEqual([0, 1561.125, 3122.25, 4683.375, 6244.5]);
    const total = pieces.reduce((sum, piece) => sum + piece.bytes.length - 44, 0);
    expect(total).toBe(wav.length - 44);
    for (const piece of pieces) {
      expect(piece.bytes.length).toBeLessThanOrEqual(50_000);
      const summary = await inspectRecording(piece.bytes, 'audio/wav', limits);
      expect(summary.durationMs).toBeGreaterThan(0);
    }
    expect(splitWav(recordingFixture('meeting.mp3'), 50_000)).toBeUndefined();
  });
});

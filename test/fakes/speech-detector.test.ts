import { describe, expect, it } from 'vitest';
import {
  concatenatePcm,
  decodeWav,
  encodeWav,
  pcmToBytes,
  rootMeanSquare,
  silence,
  speechLikeSignal,
  toneForText,
} from './audio-signal.ts';
import { SpeechDetector } from './speech-detector.ts';

const sampleRate = 16_000;

describe('SpeechDetector', () => {
  const audio = concatenatePcm(
    silence(300, sampleRate),
    speechLikeSignal(800, sampleRate),
    silence(150, sampleRate), // a pause inside the utterance, shorter than 300 ms
    speechLikeSignal(400, sampleRate),
    silence(500, sampleRate),
  );

  it('finds one utterance across a short pause, in audio time', () => {
    const detector = new SpeechDetector({ sampleRate });
    expect(detector.push(pcmToBytes(audio))).toEqual([
      { type: 'start', at: 300 },
      { type: 'end', at: expect.closeTo(1650, -1) as number },
    ]);
    expect(detector.position).toBe(2150);
  });

  it('gives the same answer whatever the chunking, odd byte counts included', () => {
    const bytes = pcmToBytes(audio);
    const detector = new SpeechDetector({ sampleRate });
    const events = [];
    for (let start = 0; start < bytes.length; start += 777)
      events.push(...detector.push(bytes.subarray(start, start + 777)));
    expect(events).toEqual(new SpeechDetector({ sampleRate }).push(bytes));
  });

  it('splits at a long pause, ignores clicks, and closes on finish()', () => {
    const detector = new SpeechDetector({ sampleRate, endOfSpeechSilence: 100 });
    const events = detector.push(
      pcmToBytes(
        concatenatePcm(
          speechLikeSignal(20, sampleRate), // a 20 ms click: shorter than minimumSpeech
          silence(200, sampleRate),
          speechLikeSignal(300, sampleRate),
          silence(200, sampleRate),
          speechLikeSignal(300, sampleRate),
        ),
      ),
    );
    expect(events.map((event) => event.type)).toEqual(['start', 'end', 'start']);
    expect(detector.speaking).toBe(true);
    expect(detector.finish()).toEqual([{ type: 'end', at: expect.closeTo(1020, -1) as number }]);
    expect(detector.speaking).toBe(false);
  });
});

describe('audio signals', () => {
  it('makes deterministic, non-silent tones as long as the text', () => {
    const tone = toneForText('the blue valve', 24_000, 60);
    expect(tone.length).toBe(3 * 1440);
    expect(rootMeanSquare(tone)).toBeGreaterThan(0.15);
    expect(toneForText('the blue valve', 24_000, 60)).toEqual(tone);
    expect(toneForText('the red valve', 24_000, 60)).not.toEqual(tone);
    expect(toneForText('   ', 24_000, 60)).toHaveLength(0);
  });

  it('round-trips WAV', () => {
    const samples = speechLikeSignal(100, 8000);
    expect(decodeWav(encodeWav(samples, 8000))).toEqual({
      sampleRate: 8000,
      channels: 1,
      samples,
      duration: 100,
    });
    expect(decodeWav(Buffer.from('not a wav file'))).toBeUndefined();
  });
});

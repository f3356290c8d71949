import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initializeAgentsLogging } from '../logging.ts';
import { TurnTakingDetector, type TurnTakingSignals } from './detector.ts';

/** An inference executor standing in for the local model: always this probability. */
function executorAnswering(probability: number) {
  return {
    async doInference() {
      return { probability, inferenceDurationMs: 1 };
    },
  };
}

describe('TurnTakingDetector', () => {
  beforeAll(() => initializeAgentsLogging(process.env.TEST_AGENT_LOG_LEVEL ?? 'fatal'));
  let detector: TurnTakingDetector | undefined;
  afterEach(async () => {
    await detector?.aclose();
    detector = undefined;
  });

  /** A detector whose audio model says `probability`, its stream, and the decisions it reports. */
  function start(probability: number) {
    detector = new TurnTakingDetector({ version: 'v1-mini', executor: executorAnswering(probability) });
    const decisions: TurnTakingSignals[] = [];
    detector.onDecision((signals) => decisions.push(signals));
    return { detector, stream: detector.stream(), decisions };
  }

  it('answers "end of turn" at once for a complete question the audio model doubts', async () => {
    const { detector, stream, decisions } = start(0.2);
    detector.observeTranscript('What is my locker code?', true);
    const event = await stream.predict().await;
    expect(event.endOfTurnProbability).toBe(1);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ shape: 'question', audio: 'unsure', audioProbability: 0.2 });
  });

  it('answers "unlikely" at once when the words trail off, so the framework waits its maxDelay', async () => {
    const { detector, stream, decisions } = start(0.2);
    detector.observeTranscript('I would like to book a table for', true);
    const event = await stream.predict().await;
    expect(event.endOfTurnProbability).toBe(0);
    expect(decisions[0]).toMatchObject({ verdict: 'mid-thought', shape: 'trailing' });
  });

  it('holds an unsure turn until its wait has passed after the end of speech', async () => {
    const { detector, stream } = start(0.2);
    detector.observeTranscript('I need a plumber', true);
    const asked = Date.now();
    const event = await stream.predict().await;
    expect(event.endOfTurnProbability).toBe(1);
    // 1500 ms after the end of speech, which was 200 ms before the request.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1250);
  });

  it('re-decides when the final transcript arrives during the hold', async () => {
    const { detector, stream, decisions } = start(0.2);
    detector.observeTranscript('what is my locker code', false);
    const asked = Date.now();
    const prediction = stream.predict();
    setTimeout(() => detector.observeTranscript('What is my locker code?', true), 100);
    const event = await prediction.await;
    expect(event.endOfTurnProbability).toBe(1);
    expect(decisions.map((decision) => decision.shape)).toEqual(['none', 'question']);
    expect(decisions[1]?.trigger).toBe('transcript');
    // Well before the 1500 ms the interim alone would have waited.
    expect(Date.now() - asked).toBeLessThan(1000);
  });

  it('resolves a cancelled request as "unlikely" and never commits it later', async () => {
    const { detector, stream } = start(0.2);
    detector.observeTranscript('I need a plumber', true);
    const prediction = stream.predict();
    await new Promise((resolve) => setTimeout(resolve, 50));
    stream.cancelInference();
    expect((await prediction.await).endOfTurnProbability).toBe(0);
  });

  it('starts every turn with no words once the framework flushes the committed one', async () => {
    const { detector, stream, decisions } = start(0.2);
    detector.observeTranscript('What is my locker code?', true);
    await stream.predict().await;
    stream.flush('turn committed');
    const next = stream.predict();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(decisions.at(-1)).toMatchObject({ shape: 'none', text: '' });
    stream.cancelInference();
    await next.await;
  });
});

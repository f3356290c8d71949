import { createRequire } from 'node:module';
import { TurnTakingDetector } from './turn-taking/detector.ts';

/** The method name the turn detector's local transport asks its executor for. */
const END_OF_TURN_METHOD = 'lk_eot_audio';

interface LocalInferenceModule {
  initEot(): void;
  predict(pcm: Int16Array): Promise<number>;
}

let localInference: LocalInferenceModule | undefined;

function loadLocalInference(): LocalInferenceModule {
  // A CommonJS native addon: load it with require so its prebuilt binary resolves.
  localInference ??= createRequire(import.meta.url)('@livekit/local-inference') as LocalInferenceModule;
  return localInference;
}

/**
 * Runs LiveKit's audio end-of-turn model (`turn-detector-v1-mini`, weights shipped in
 * `@livekit/local-inference`) in this process. Inside a LiveKit job the framework
 * provides a shared inference process; room-less sessions have no job, and without an
 * executor the detector silently predicts "turn over" after every pause. Inference runs
 * on libuv's thread pool (about 10 ms per prediction), not on the event loop.
 */
export const inProcessEndOfTurnExecutor = {
  async doInference(method: string, data: unknown): Promise<unknown> {
    if (method !== END_OF_TURN_METHOD) throw new Error(`No local inference runner for "${method}"`);
    const bytes = Buffer.from((data as { pcm: string }).pcm, 'base64');
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2));
    const started = performance.now();
    const probability = await loadLocalInference().predict(pcm);
    return { probability, inferenceDurationMs: performance.now() - started };
  },
};

/** Loads the end-of-turn model's weights now (about 100 MB), so the first turn does not wait. */
export function prewarmEndOfTurnModel(): void {
  loadLocalInference().initEot();
}

/**
 * The offline audio end-of-turn detector with the turn-taking decision on top (see
 * `turn-taking/detector.ts`). `executor` defaults to in-process inference; inside a
 * LiveKit job pass nothing to use the job's shared inference process.
 */
export function createTurnDetector(options: { inJob?: boolean } = {}): TurnTakingDetector {
  return new TurnTakingDetector({
    version: 'v1-mini',
    ...(options.inJob ? {} : { executor: inProcessEndOfTurnExecutor }),
  });
}

/**
 * The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe.
 * Type-only: the worklets declare these names locally (`declare const sampleRate`)
 * and the browser provides them at run time.
 */
export interface WorkletProcessor {
  readonly port: MessagePort;
  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean;
}

export type WorkletProcessorConstructor = new () => WorkletProcessor;

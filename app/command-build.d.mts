/** Types of app/command-build.mjs (plain JavaScript: it runs before anything compiles TypeScript). */
export declare const COMMANDS: readonly string[];
export declare const INTERNAL_COMMANDS: readonly string[];
export declare const ROOT: string;
export interface Place {
  root: string;
  cache: string;
  commands: readonly string[];
}
export declare function compiledCommands(
  onFailure: (reason: string) => void,
  place?: Place,
): Promise<string | undefined>;

/** How the benchmark's entry points end: their cleanup steps run on success, error and Ctrl-C. */
export class Cleanup {
  private readonly steps: Array<() => Promise<unknown>> = [];
  private done?: Promise<void>;

  constructor() {
    process.once('SIGINT', () => void this.run().finally(() => process.exit(130)));
  }

  /** Steps run last added first. */
  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) await step().catch(console.error);
    })();
    return this.done;
  }
}

/** Runs `main`, then its cleanup; exit code 1 with the error if it threw, else 0. */
export function runMain(main: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  main(cleanup)
    .finally(() => cleanup.run())
    .then(
      () => process.exit(0),
      (error: unknown) => (console.error(error), process.exit(1)),
    );
}

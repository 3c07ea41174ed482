// Preloaded into an operator process (node --import) to skew its wall clock by
// B2B_TEST_CLOCK_OFFSET_MS, as a node whose clock is off would be. Timers and
// performance.now() are monotonic and stay as they are, as on a real node.
const offset = Number(process.env.B2B_TEST_CLOCK_OFFSET_MS ?? '0');
const RealDate = Date;

class SkewedDate extends RealDate {
  constructor(...args: ConstructorParameters<DateConstructor> | []) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...(args as [string]));
  }

  static override now(): number {
    return RealDate.now() + offset;
  }
}

globalThis.Date = SkewedDate as DateConstructor;

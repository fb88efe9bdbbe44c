// Preloaded into the server (node --expose-gc --import bench/heap-probe.mjs) by the memory benchmark:
// on SIGUSR2 it runs a full garbage collection and reports the live heap on stderr, so that growth in
// RSS can be told apart from a leak. It does nothing until asked.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const { heapUsed, heapTotal, external, rss } = process.memoryUsage();
  process.stderr.write(`HEAP-PROBE ${JSON.stringify({ heapUsed, heapTotal, external, rss })}\n`);
});

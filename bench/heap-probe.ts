// Preloaded into a server (node --expose-gc --import) by the memory bench: on SIGUSR2 it runs a full garbage
// collection and reports the live heap on stderr, so that RSS growth can be told apart from a leak. It does
// nothing until asked.
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  process.stderr.write(`HEAP-PROBE ${JSON.stringify({ heapUsed, rss })}\n`);
});

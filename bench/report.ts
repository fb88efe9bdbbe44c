/** The bench's one reporter: the figures the measures returned, as tables with their ratios. */
import { bytes, heading, int, mib, ms, ratio, table, us } from './format.js';
import { COUNTS, type CallKind, type measureAcrossGroups, type measureContext, type measureLargeGroups, type measureMemory, type measureStartup, type CallFigures } from './measure.js';

// The limits test/portable-schemas.test.ts enforces; here to show how close the tools are to them.
const MODEL_BYTES_PER_TOOL = 900;
const LIST_BYTES_PER_TOOL = 1_500;
// A lean start, against the bare SDK server started the ordinary way (its packages loaded as files).
const STARTUP_TARGET = 0.8;
const IDLE_RSS_TARGET = 1;

export interface Results {
  about: string[];
  startup: Awaited<ReturnType<typeof measureStartup>>;
  perCall: Record<CallKind, CallFigures>;
  large: Awaited<ReturnType<typeof measureLargeGroups>>;
  context: Awaited<ReturnType<typeof measureContext>>;
  across: Awaited<ReturnType<typeof measureAcrossGroups>>;
  memory: Awaited<ReturnType<typeof measureMemory>>;
}

function targets({ startup, memory }: Results): string[] {
  const row = (what: string, value: number, target: number) => [what, ratio(value), `≤ ${ratio(target)}`, value <= target ? 'met' : 'missed'];
  return [
    heading('Targets: ours / the bare SDK server with one tool, packages from node_modules'),
    table(['measure', 'ours / bare', 'target', ''], [
      row('start-up: spawn → tools/list answered, median', startup.ours.toolsList.median / startup.bare.toolsList.median, STARTUP_TARGET),
      row('idle memory: RSS after tools/list', memory.ours.idle.rssKiB / memory.bare.idle.rssKiB, IDLE_RSS_TARGET),
    ]),
  ];
}

function startup({ ours, bare, bareBundled, emptyNode }: Results['startup']): string[] {
  const row = (name: string, x: Results['startup']['ours']) => [name, ms(x.initialize.median, 1), ms(x.toolsList.median, 1), ms(x.toolsList.p90, 1), ms(x.cpu.median, 0)];
  return [
    heading(`Start-up: spawn → answered (${COUNTS.startupRuns} runs each, interleaved)`),
    table(
      ['server', 'initialize p50', 'tools/list p50', 'tools/list p90', 'CPU used p50 *'],
      [
        row('ours: node dist/cli/index.js', ours),
        row('bare: SDK + 1 tool, packages from node_modules', bare),
        row('bare, bundled by esbuild like ours', bareBundled),
        ['empty node -e "" (spawn → exit)', '', ms(emptyNode.median, 1), ms(emptyNode.p90, 1)],
      ],
    ),
    '',
    table(['ratio of medians', 'tools/list', 'CPU used *'], [
      ['ours / bare', ratio(ours.toolsList.median / bare.toolsList.median), ratio(ours.cpu.median / bare.cpu.median)],
      ['ours / bare bundled', ratio(ours.toolsList.median / bareBundled.toolsList.median), ratio(ours.cpu.median / bareBundled.cpu.median)],
    ]),
    '  * user + system CPU of the server when tools/list was answered (/proc, 10 ms ticks): less swayed by other load than wall time.',
  ];
}

function perCall(x: Results['perCall']): string[] {
  const floor = { median: x.directGet.sequential.median + x.ping.sequential.median, p99: x.directGet.sequential.p99 + x.ping.sequential.p99 };
  const row = (name: string, { sequential: s, serverCpu }: CallFigures) => [name, ms(s.median, 3), ms(s.p90, 3), ms(s.p99, 3), serverCpu === undefined ? '' : us(serverCpu)];
  const concurrent = (name: string, { concurrent: c }: CallFigures) => [name, `${int(c.perSecond)}/s`, ms(c.p50, 2), ms(c.p99, 2)];
  return [
    heading(`Per call: get_group over stdio (${int(COUNTS.sequentialCalls)} sequential calls each, in 10 interleaved blocks, after ${COUNTS.warmupCalls} warm-up)`),
    table(
      ['sequential', 'p50', 'p90', 'p99', 'server CPU/call'],
      [
        row('ours: tools/call get_group', x.ours),
        row('direct GET with undici', x.directGet),
        row('bare: tools/call ping', x.ping),
        ['floor = direct GET + bare round trip', ms(floor.median, 3), '', ms(floor.p99, 3)],
        ['ours / floor', ratio(x.ours.sequential.median / floor.median), '', ratio(x.ours.sequential.p99 / floor.p99)],
        row('SinchGroupsClient.getGroup in this process †', x.client),
        row('bare proxy: a bare tool sending the same GET ‡', x.proxy),
        ['ours / bare proxy', ratio(x.ours.sequential.median / x.proxy.sequential.median), '', ratio(x.ours.sequential.p99 / x.proxy.sequential.p99), ratio((x.ours.serverCpu ?? NaN) / (x.proxy.serverCpu ?? NaN))],
        ['bare proxy / floor (the process hops alone)', ratio(x.proxy.sequential.median / floor.median), '', ratio(x.proxy.sequential.p99 / floor.p99)],
      ],
    ),
    '  † src/sinch/client.ts against the same emulator: the HTTP part of get_group without MCP or stdio.',
    '  ‡ bench/bare-proxy.ts: one tool, undici GET, reply returned as text; it pays the same process hops as ours, the floor does not.',
    '',
    table([`${COUNTS.inFlight} in flight, ${int(COUNTS.concurrentCalls)} calls`, 'throughput', 'p50', 'p99'], [
      concurrent('ours: get_group', x.ours), concurrent('direct GET with undici', x.directGet), concurrent('bare: ping', x.ping), concurrent('bare proxy', x.proxy),
    ]),
  ];
}

function large({ steps, rssBeforeKiB }: Results['large']): string[] {
  return [
    heading('Large groups: through MCP over stdio'),
    table(
      ['step', 'wall', 'Sinch requests', 'MCP request', 'MCP reply', 'peak RSS', 'result'],
      steps.map((s) => [s.step, `${int(s.wallMs)} ms`, s.sinchRequests, bytes(s.requestBytes), bytes(s.replyBytes), mib(s.peakKiB) + (s.peakIsForStep ? '' : ' *'), s.detail]),
    ),
    `  Server RSS before the first step: ${mib(rssBeforeKiB)}; peak RSS is the server's VmHWM, reset before each step` +
      (steps.some((s) => !s.peakIsForStep) ? ' (* where the kernel refused: peak since start).' : '.'),
  ];
}

function context(x: Results['context']): string[] {
  const total = (key: 'bytes' | 'modelBytes' | 'descriptionBytes' | 'inputSchemaBytes' | 'outputSchemaBytes') => int(x.perTool.reduce((sum, tool) => sum + tool[key], 0));
  return [
    heading('Context cost: compact JSON bytes (tokens ≈ bytes / 4)'),
    table(
      ['tools/list', 'whole tool', 'model sees *', 'description', 'inputSchema', 'outputSchema'],
      [
        ...x.perTool.map((tool) => [tool.name, int(tool.bytes), int(tool.modelBytes), int(tool.descriptionBytes), int(tool.inputSchemaBytes), int(tool.outputSchemaBytes)]),
        [`all ${x.perTool.length} tools`, total('bytes'), total('modelBytes'), total('descriptionBytes'), total('inputSchemaBytes'), total('outputSchemaBytes')],
      ],
    ),
    '  * name, description and inputSchema: what a model is given of a tool.',
    '',
    table(
      ['per tool, average', 'bytes', 'limit', 'of limit'],
      [
        ['what a model sees', int(x.modelBytesPerTool), int(MODEL_BYTES_PER_TOOL), ratio(x.modelBytesPerTool / MODEL_BYTES_PER_TOOL)],
        ['tools/list (the tools array)', int(x.toolsListBytesPerTool), int(LIST_BYTES_PER_TOOL), ratio(x.toolsListBytesPerTool / LIST_BYTES_PER_TOOL)],
      ],
    ),
    '',
    table(
      ['tool result', 'whole result', 'text content', 'structuredContent'],
      x.results.map((r) => [r.what, int(r.whole), int(r.text), int(r.structured)]),
    ),
    '  The whole result carries the data twice (text and structuredContent); which one reaches the model depends on the client.',
  ];
}

function across({ find, findReplyBytes, nameMs, nameReplyBytes }: Results['across']): string[] {
  const rows = [
    [`find_numbers, 3 numbers (${COUNTS.findRuns} runs)`, ms(find.median, 0), ms(find.max, 0), bytes(findReplyBytes)],
    ['list_groups by name', ms(nameMs, 0), '', bytes(nameReplyBytes)],
  ];
  return [heading(`Across groups: ${int(COUNTS.findGroups)} groups of ${int(COUNTS.findMembers)} members, through MCP over stdio`), table(['call', 'p50', 'max', 'result'], rows)];
}

function memory({ ours, bare }: Results['memory']): string[] {
  const row = (name: string, x: { rssKiB: number; heapUsed: number }) => [name, mib(x.rssKiB), mib(x.heapUsed / 1024)];
  return [
    heading('Memory: server RSS (/proc) and live JS heap after a full GC'),
    table(
      ['server', 'RSS', 'live heap'],
      [
        row('ours, idle after tools/list', ours.idle),
        row('bare, idle after tools/list', bare.idle),
        ['ours / bare, idle', ratio(ours.idle.rssKiB / bare.idle.rssKiB), ratio(ours.idle.heapUsed / bare.idle.heapUsed)],
        row(`ours after ${int(COUNTS.memoryCalls)} get_group calls`, ours.afterCalls),
        row(`bare after ${int(COUNTS.memoryCalls)} ping calls`, bare.afterCalls),
      ],
    ),
    `  Heap growth over the calls: ours ${int((ours.afterCalls.heapUsed - ours.idle.heapUsed) / 1024)} KiB, bare ${int((bare.afterCalls.heapUsed - bare.idle.heapUsed) / 1024)} KiB;` +
      ' RSS growing while the live heap does not is V8 sizing its heap, not a leak.',
  ];
}

export function report(results: Results): string {
  return [...results.about, ...targets(results), ...startup(results.startup), ...perCall(results.perCall), ...large(results.large), ...context(results.context), ...across(results.across), ...memory(results.memory)].join('\n');
}

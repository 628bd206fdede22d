import { loadRewrites } from '../../shared/runtime/rewrites.js';
import type { CodeInventory } from './code-inventory.js';
import type { TerraformModel } from './terraform.js';

/**
 * docs/architecture.svg, drawn from the tables tests/infra holds Terraform against: the units and
 * what they consume (code inventory), the edge routes, the schedules, and from infra/units.tf
 * the stores each unit may touch. `npm run diagram` writes it; diagram.test.ts fails when the
 * committed file differs, so the picture cannot drift from the code.
 */

interface UnitSpec {
  roles?: string[];
  bucket_roles?: Record<string, string>;
  secrets?: string[];
}

/** Terraform resource types that put the HTTPS load balancer in front of the functions. */
const LOAD_BALANCER_TYPES = [
  'google_compute_url_map',
  'google_compute_backend_service',
  'google_compute_region_network_endpoint_group',
];

const COLUMN = {
  edge: { x: 20, w: 190 },
  http: { x: 240, w: 260 },
  /** Between units and topics: the outbox relay, and Cloud Scheduler beside the scheduled topics. */
  lane: { x: 530, w: 130 },
  topic: { x: 690, w: 200 },
  consumer: { x: 950, w: 210 },
  store: { x: 1210, w: 250 },
};
const TOP = 110;
const WIDTH = 1480;

const xmlText = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

function box(
  x: number,
  y: number,
  w: number,
  h: number,
  lines: string[],
  style: 'unit' | 'topic' | 'edge' | 'store' | 'note',
): string {
  const text = lines
    .map(
      (line, i) =>
        `<text x="${x + 8}" y="${y + 17 + i * 15}"${i === 0 ? ' class="title"' : ''}>${xmlText(line)}</text>`,
    )
    .join('');
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" class="${style}"/>${text}`;
}

const arrow = (x1: number, y1: number, x2: number, y2: number, dashed = false) =>
  `<path d="M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}" class="link${dashed ? ' dashed' : ''}" marker-end="url(#head)"/>`;

/** How a unit's role on a bucket reads in the picture. */
const access = (role: string) => (/objectViewer$/.test(role) ? 'read' : 'write');

export function architectureSvg(code: CodeInventory, tf: TerraformModel): string {
  const specs = (tf.locals.units as Record<string, UnitSpec> | undefined) ?? {};
  const rewrites = loadRewrites();
  const units = [...code.units.entries()].sort(([a], [b]) => a.localeCompare(b));
  const httpUnits = units.filter(([, u]) => u.http).map(([name]) => name);
  const consumerUnits = units.filter(([, u]) => !u.http).map(([name]) => name);
  const scheduled = new Map(code.schedules.map((s) => [s.topic, s.cron]));
  const topics = [...code.topics].sort((a, b) => {
    const rank = (t: string) => (scheduled.has(t) ? 1 : 0);
    return rank(a) - rank(b) || a.localeCompare(b);
  });

  const parts: string[] = [];
  const storesOf = (unit: string) => {
    const spec = specs[unit] ?? {};
    const stores = ['SQL'];
    if ((spec.roles ?? []).includes('roles/datastore.user')) stores.push('Firestore');
    for (const [bucket, role] of Object.entries(spec.bucket_roles ?? {}))
      stores.push(`${bucket} (${access(role)})`);
    return stores.join(' · ');
  };

  // Units served over HTTP, each with the edge routes that reach it.
  const httpY = new Map<string, number>();
  let y = TOP;
  for (const unit of httpUnits) {
    const sources = rewrites.filter((r) => r.unit === unit).map((r) => r.source);
    const lines = [unit, ...wrap(sources.join('  '), 40), storesOf(unit)];
    const h = 10 + lines.length * 15;
    parts.push(box(COLUMN.http.x, y, COLUMN.http.w, h, lines, 'unit'));
    httpY.set(unit, y + h / 2);
    y += h + 10;
  }
  const httpBottom = y;

  // The edge: clients, and the load balancer (with Cloud Armor) when infra/ has one.
  const edge = ['clients: web console, CLI, asciinema'];
  const resourceTypes = Object.keys(tf.resources);
  if (LOAD_BALANCER_TYPES.some((type) => resourceTypes.includes(type)))
    edge.push('HTTPS load balancer + Cloud Armor: URL map from edge-routes.ts');
  let edgeY = TOP;
  let previous: number | null = null;
  for (const [i, label] of edge.entries()) {
    const lines = wrap(label, 24);
    const h = 10 + lines.length * 15;
    parts.push(box(COLUMN.edge.x, edgeY, COLUMN.edge.w, h, lines, 'edge'));
    if (previous !== null) {
      const cx = COLUMN.edge.x + COLUMN.edge.w / 2;
      parts.push(`<path d="M${cx},${previous} L${cx},${edgeY}" class="link" marker-end="url(#head)"/>`);
    }
    previous = edgeY + h;
    if (i === edge.length - 1) {
      for (const unitY of httpY.values())
        parts.push(arrow(COLUMN.edge.x + COLUMN.edge.w, edgeY + h / 2, COLUMN.http.x, unitY));
    }
    edgeY += h + 24;
  }

  // Topics; the outbox relay publishes what units queued in their transactions.
  const topicY = new Map<string, number>();
  y = TOP;
  for (const topic of topics) {
    const cron = scheduled.get(topic);
    const lines = [topic, cron ? `scheduled: ${cron} UTC` : 'from the outbox'];
    if (!code.subscriptions.some((s) => s.topic === topic)) lines.push('no subscriber');
    const h = 10 + lines.length * 15;
    parts.push(box(COLUMN.topic.x, y, COLUMN.topic.w, h, lines, 'topic'));
    topicY.set(topic, y + h / 2);
    y += h + 10;
  }
  const topicsBottom = y;
  const relayX = COLUMN.lane.x;
  const unscheduled = topics.filter((t) => !scheduled.has(t)).map((t) => topicY.get(t) ?? 0);
  const unitYs = [...httpY.values()];
  parts.push(
    `<path d="M${relayX},${Math.min(...unitYs, ...unscheduled)} L${relayX},${Math.max(...unitYs, ...unscheduled)}" class="relay"/>`,
    `<text x="${relayX}" y="${TOP - 8}" class="small" text-anchor="middle">outbox relay</text>`,
  );
  for (const unitY of unitYs)
    parts.push(
      `<path d="M${COLUMN.http.x + COLUMN.http.w},${unitY} L${relayX},${unitY}" class="link dashed"/>`,
    );
  for (const t of unscheduled) parts.push(arrow(relayX, t, COLUMN.topic.x, t));

  // Consumers, reached by one push subscription per (topic, unit).
  const consumerY = new Map<string, number>();
  y = TOP;
  for (const unit of consumerUnits) {
    const consumes = code.units.get(unit)?.consumes ?? [];
    const lines = [unit, ...wrap(`consumes ${consumes.join(', ')}`, 30), storesOf(unit)];
    const h = 10 + lines.length * 15;
    parts.push(box(COLUMN.consumer.x, y, COLUMN.consumer.w, h, lines, 'unit'));
    consumerY.set(unit, y + h / 2);
    y += h + 16;
  }
  for (const subscription of code.subscriptions) {
    const from = topicY.get(subscription.topic);
    const to = consumerY.get(subscription.unit);
    if (from !== undefined && to !== undefined)
      parts.push(arrow(COLUMN.topic.x + COLUMN.topic.w, from, COLUMN.consumer.x, to));
  }

  // Cloud Scheduler in the lane beside the scheduled topics it publishes to.
  const scheduledYs = [...scheduled.keys()].map((t) => topicY.get(t)).filter((t) => t !== undefined);
  const schedulerMid = scheduledYs.length ? (Math.min(...scheduledYs) + Math.max(...scheduledYs)) / 2 : TOP;
  const schedulerX = COLUMN.lane.x + 14;
  const schedulerW = COLUMN.lane.w - 34;
  parts.push(
    box(schedulerX, schedulerMid - 27, schedulerW, 54, ['Cloud', 'Scheduler', 'one job each'], 'edge'),
  );
  for (const t of scheduledYs)
    parts.push(arrow(schedulerX + schedulerW, schedulerMid, COLUMN.topic.x, t, true));

  // Stores, with the units that may touch each (infra/units.tf grants).
  const bucketUsers = new Map<string, string[]>();
  const firestoreUsers: string[] = [];
  for (const [unit, spec] of Object.entries(specs).sort(([a], [b]) => a.localeCompare(b))) {
    if ((spec.roles ?? []).includes('roles/datastore.user')) firestoreUsers.push(unit);
    for (const [bucket, role] of Object.entries(spec.bucket_roles ?? {})) {
      bucketUsers.set(bucket, [...(bucketUsers.get(bucket) ?? []), `${unit} (${access(role)})`]);
    }
  }
  const buckets = Object.keys((tf.locals.buckets as Record<string, unknown> | undefined) ?? {}).sort();
  const stores: string[][] = [
    ['Cloud SQL for PostgreSQL 16', 'every unit, as its own IAM user', 'locally: PGlite in .data/'],
    ['Firestore (fast state)', ...wrap(firestoreUsers.join(', '), 34), 'locally: unlogged SQL tables'],
    ...buckets.map((bucket) => [
      `bucket ${bucket}`,
      ...wrap((bucketUsers.get(bucket) ?? []).join(', '), 34),
      'locally: .data/blobs/',
    ]),
    ['Secret Manager', `${code.secrets.length} secrets, per-unit access`, 'locally: .data/secrets/'],
  ];
  y = TOP;
  for (const lines of stores) {
    const h = 10 + lines.length * 15;
    parts.push(box(COLUMN.store.x, y, COLUMN.store.w, h, lines, 'store'));
    y += h + 12;
  }
  const storesBottom = y;

  const bottom = Math.max(httpBottom, topicsBottom, y, storesBottom) + 10;
  const note = [
    'npm start runs all of this in one process: the gateway routes by the same route table as the load balancer, the in-process bus',
    'delivers the same subscriptions, timers play Cloud Scheduler, and PGlite and files under .data/ play the stores.',
  ];
  parts.push(box(COLUMN.edge.x, bottom, WIDTH - 40, 44, note, 'note'));
  const height = bottom + 64;

  const header = [
    `<text x="20" y="34" class="heading">SessionForge security services: units, topics and stores</text>`,
    `<text x="20" y="56" class="small">Generated by npm run diagram from shared/runtime/edge-routes.ts, shared/bus/topics.ts and infra/units.tf; tests/infra/diagram.test.ts keeps it current.</text>`,
    ...[
      ['edge', COLUMN.edge],
      ['HTTP functions', COLUMN.http],
      ['Pub/Sub topics', COLUMN.topic],
      ['event functions', COLUMN.consumer],
      ['stores', COLUMN.store],
    ].map(
      ([label, column]) =>
        `<text x="${(column as { x: number }).x}" y="92" class="column">${xmlText(label as string)}</text>`,
    ),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    '<title>SessionForge security services: units, topics and stores</title>',
    '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5b6b7f"/></marker></defs>',
    '<style>rect{stroke-width:1.2}.unit{fill:#eef4ff;stroke:#3f6fb5}.topic{fill:#fff6e5;stroke:#c98a1a}.edge{fill:#eefaf0;stroke:#3c8d4f}.store{fill:#f6eefc;stroke:#7a4fa8}.note{fill:#f7f7f7;stroke:#999}text{fill:#1d2733}.title{font-weight:bold}.heading{font-size:17px;font-weight:bold}.column{font-size:13px;font-weight:bold;fill:#5b6b7f}.small{fill:#5b6b7f}.link{fill:none;stroke:#5b6b7f;stroke-width:1}.dashed{stroke-dasharray:4 3}.relay{stroke:#c98a1a;stroke-width:3}</style>',
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...header,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Greedy word wrap at `width` characters (SVG text does not wrap by itself). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

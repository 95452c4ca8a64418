/**
 * Every IANA zone whose offset changes in 2027–2028: around each change, our fire times must equal the
 * independent minute-by-minute oracle's, for fixed-hour expressions at every quarter hour near the
 * change and for wildcard/stepped-hour expressions. Fixed years keep the test deterministic.
 */
import { type Schedule, ScheduleMath } from '../../src/actors/parser/schedule';
import { type Sample, WallReader, oracleFires, simpleCron, transitions, walk } from './oracle';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const FROM = Date.UTC(2027, 0, 1);
const TO = Date.UTC(2029, 0, 1);

interface Case { zone: string; at: number; samples: Sample[] }

/**
 * Zones whose offset differs between any two month starts of the period, and their changes. Zones that
 * change at the same instant between the same offsets (most of Europe, say) behave identically in the
 * window: only the first of them is kept, which keeps the suite fast without losing a distinct case.
 */
function findCases(): { cases: Case[]; zones: Set<string> } {
  const cases: Case[] = [];
  const zones = new Set<string>();
  const distinct = new Set<string>();
  for (const zone of Intl.supportedValuesOf('timeZone')) {
    const reader = new WallReader(zone);
    const offsets = new Set<number>();
    for (let m = 0; m <= 24; m++) offsets.add(reader.offsetMinutes(Date.UTC(2027, m, 1)));
    if (offsets.size < 2) continue;
    for (const at of transitions(reader, FROM, TO)) {
      zones.add(zone);
      const key = `${at}/${reader.offsetMinutes(at - MINUTE)}/${reader.offsetMinutes(at)}`;
      if (distinct.has(key)) continue;
      distinct.add(key);
      cases.push({ zone, at, samples: walk(reader, at - 3 * HOUR, at + 3 * HOUR) });
    }
  }
  return { cases, zones };
}

/**
 * Wildcard and stepped hours, plus fixed-hour expressions at each quarter hour the wall clock shows
 * within an hour of the change, and one single-minute daily expression in the hour the change leaves.
 */
function expressionsFor(c: Case): string[] {
  const hours = new Set<number>();
  for (const s of c.samples) if (Math.abs(s.instant - c.at) <= HOUR) hours.add(s.hour);
  const leaving = c.samples.find((s) => s.instant === c.at - MINUTE)!.hour;
  const out = ['*/15 * * * *', '0 */2 * * *', `45 ${leaving} * * *`];
  for (const h of hours) out.push(`0,15,30,45 ${h} * * *`);
  return out;
}

const fmt = (zone: string, ts: number[]): string =>
  ts.map((t) => `${new Date(t).toISOString()} (${new Date(t).toLocaleString('sv-SE', { timeZone: zone })})`).join(', ');

describe('DST oracle: every zone with a transition in 2027–2028', () => {
  const { cases, zones } = findCases();
  const math = new ScheduleMath();

  it('finds the transitions (sanity: the walk covers both hemispheres and odd offsets)', () => {
    for (const z of ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Pacific/Auckland',
      'America/Santiago', 'Australia/Lord_Howe', 'Australia/Adelaide', 'Pacific/Chatham', 'Antarctica/Troll']) {
      expect(zones.has(z)).toBe(true);
    }
    expect(zones.size).toBeGreaterThan(100);
    expect(cases.length).toBeGreaterThan(100);
  });

  it('fires exactly where the oracle does, from every start and chained', () => {
    const failures: string[] = [];
    for (const c of cases) {
      const first = c.samples[0]!.instant;
      const last = c.samples[c.samples.length - 1]!.instant;
      for (const text of expressionsFor(c)) {
        const expected = oracleFires(c.samples, simpleCron(text));
        const s: Schedule = math.parse(text, { tz: c.zone, now: first });
        const got = math.slotsBetween(s, first, last, 1000);
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          failures.push(`${c.zone} '${text}' near ${new Date(c.at).toISOString()}:\n  want ${fmt(c.zone, expected)}` +
            `\n  got  ${fmt(c.zone, got)}`);
          continue;
        }
        // Start from arbitrary instants too (just before and after the change, mid-gap, mid-repeat),
        // not only from previous fires.
        const afters = [-90, -61, -30, -14, -7.5, -1, -0.001, 0, 0.5, 7.5, 14, 30, 61, 90].map((m) => c.at + m * MINUTE);
        for (let after = first + 7 * MINUTE + 30_000; after < last; after += 40 * MINUTE) afters.push(after);
        for (const after of afters) {
          const want = expected.find((t) => t > after) ?? null;
          const n = math.nextFire(s, after);
          if (want !== null && n !== want) {
            failures.push(`${c.zone} '${text}' after ${new Date(after).toISOString()}: want ${fmt(c.zone, [want])}, ` +
              `got ${n === null ? 'null' : fmt(c.zone, [n])}`);
          }
        }
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });
});

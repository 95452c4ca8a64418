import { OutputRing } from '../../src/workers/run/output-ring';
import { CPU_SUSTAINED_SAMPLES, LimitPolicy } from '../../src/workers/run/usage';

describe('LimitPolicy', () => {
  it('tracks peak memory and flags the memory limit on the first sample over it', () => {
    const p = new LimitPolicy({ maxMemoryBytes: 100 });
    expect(p.peakMemoryBytes).toBeNull();
    expect(p.observe({ memoryBytes: 80, cpuPercent: 0 })).toBeNull();
    expect(p.observe({ memoryBytes: 50, cpuPercent: 0 })).toBeNull();
    expect(p.peakMemoryBytes).toBe(80);
    expect(p.observe({ memoryBytes: 101, cpuPercent: 0 })).toMatchObject({ limit: 'maxMemoryBytes' });
  });

  it('ignores CPU spikes and flags only sustained CPU use', () => {
    const p = new LimitPolicy({ maxCpuPercent: 50 });
    for (let i = 0; i < 5; i++) {
      // Spikes shorter than the sustained window, separated by quiet samples.
      for (let k = 1; k < CPU_SUSTAINED_SAMPLES; k++) expect(p.observe({ memoryBytes: 0, cpuPercent: 99 })).toBeNull();
      expect(p.observe({ memoryBytes: 0, cpuPercent: 10 })).toBeNull();
    }
    let v = null;
    for (let k = 0; k < CPU_SUSTAINED_SAMPLES; k++) v = p.observe({ memoryBytes: 0, cpuPercent: 99 });
    expect(v).toMatchObject({ limit: 'maxCpuPercent' });
    expect(v!.message).toMatch(/maxCpuPercent 50/);
  });

  it('flags nothing without limits', () => {
    const p = new LimitPolicy({});
    for (let i = 0; i < 10; i++) expect(p.observe({ memoryBytes: 1e12, cpuPercent: 400 })).toBeNull();
  });
});

describe('OutputRing', () => {
  it('keeps everything under the limit, in order', () => {
    const r = new OutputRing(100);
    r.write('hello ');
    r.write(Buffer.from('world'));
    expect(r.toString()).toBe('hello world');
    expect(r.droppedBytes).toBe(0);
  });

  it('keeps exactly the last `limit` bytes of many writes', () => {
    const r = new OutputRing(1000);
    let all = '';
    for (let i = 0; i < 5000; i++) {
      const line = `line ${i}\n`;
      all += line;
      r.write(line);
    }
    expect(r.toString()).toBe(all.slice(-1000));
    expect(r.droppedBytes).toBe(all.length - 1000);
  });

  it('drops a multi-byte character cut in half at the window start', () => {
    const r = new OutputRing(4);
    r.write('aé€'); // 1 + 2 + 3 bytes: the last 4 bytes start inside 'é'
    expect(r.toString()).toBe('€');
  });
});

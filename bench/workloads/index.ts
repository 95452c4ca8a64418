/** The workloads of `npm run bench`, in the order they run. */
import type { Workload } from '../harness/runner';
import { w1 } from './w1-threads';
import { w2 } from './w2-processes';
import { w3 } from './w3-precision';
import { w3argv } from './w3-argv';
import { w4 } from './w4-scale';
import { w5 } from './w5-durability';
import { w6 } from './w6-supervision';

export const WORKLOADS: readonly Workload[] = [w1, w2, w3, w3argv, w4, w5, w6];

// Local threads and one queued worker process give the same rows (identity-suite.ts).
import { identitySuite } from './identity-suite.ts';

identitySuite(1);

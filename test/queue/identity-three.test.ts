// Local threads and three queued worker processes give the same rows (identity-suite.ts).
import { identitySuite } from './identity-suite.ts';

identitySuite(3);

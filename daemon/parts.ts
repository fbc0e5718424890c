import type { PartFactory } from './context.js';
import { ciPart } from './ci/part.js';
import { credentialsPart } from './credentials/part.js';
import { membersPart } from './members/part.js';
import { tasksPart } from './tasks/part.js';
import { eventsPart } from './tools/events.js';
import { watchPart } from './watch/part.js';

/**
 * Every feature of the daemon in dependency order: a part may use the services of the
 * parts above it (tasks after members; members, tasks and CI after credentials).
 * Built in this order, stopped in reverse.
 */
export const PART_FACTORIES: PartFactory[] = [eventsPart, credentialsPart, membersPart, tasksPart, ciPart, watchPart];

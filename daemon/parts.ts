import type { PartFactory } from './context.js';
import { membersPart } from './members/part.js';
import { eventsPart } from './tools/events.js';

/** Every feature of the daemon, started in this order and stopped in reverse. */
export const PART_FACTORIES: PartFactory[] = [eventsPart, membersPart];

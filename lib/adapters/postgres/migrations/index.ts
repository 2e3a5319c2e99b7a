import { CoreSchema1764480000000 } from './1764480000000-core-schema';
import { LoginThrottle1764480000001 } from './1764480000001-login-throttle';
import { AdminRole1764480000002 } from './1764480000002-admin-role';
import { OutboxNotifyFromStages1764480000003 } from './1764480000003-outbox-notify-from-stages';

/** Every migration, in order. Listed explicitly so the same code runs from TypeScript and from dist/. */
export const migrations = [
  CoreSchema1764480000000,
  LoginThrottle1764480000001,
  AdminRole1764480000002,
  OutboxNotifyFromStages1764480000003,
];

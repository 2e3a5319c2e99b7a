import { maskSecrets } from './mask';
import { memoryLogger } from '../tests/support/services';

describe('maskSecrets', () => {
  it.each([
    ['amqp://orderflow:s3cret@127.0.0.1:5672', 'amqp://orderflow:***@127.0.0.1:5672'],
    ['connect to postgresql://u:p%40ss@db/x failed', 'connect to postgresql://u:***@db/x failed'],
    ['http://127.0.0.1:15672/api', 'http://127.0.0.1:15672/api'],
    ['no url here', 'no url here'],
  ])('%s', (input, expected) => {
    expect(maskSecrets(input)).toBe(expected);
  });
});

describe('logger', () => {
  it('never writes credentials, in messages, fields or errors', () => {
    const { logger, lines } = memoryLogger();
    logger.info(
      { password: 'hunter2', user: { token: 'abc' }, headers: { authorization: 'Bearer x' } },
      'login',
    );
    logger.info('connecting to amqp://orderflow:hunter2@127.0.0.1');
    logger.error({ err: new Error('failed for postgresql://u:hunter2@db/x') }, 'boom');
    const text = JSON.stringify(lines());
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('"abc"');
    expect(text).not.toContain('Bearer x');
    expect(lines()).toHaveLength(3);
  });
});

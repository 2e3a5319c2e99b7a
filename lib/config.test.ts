import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('defaults to the local stack', () => {
    const config = loadConfig({});
    expect(config.database.url).toBe('postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.rabbitmq.url).toBe('amqp://orderflow:orderflow@127.0.0.1:5672');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    // each case: the variable, a bad value, and words the message must contain
    ['PORT', 'eighty', 'PORT'],
    ['PORT', '70000', 'PORT'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL'],
    ['DATABASE_URL', 'mysql://x@y/z', 'DATABASE_URL: must use postgres or postgresql'],
    ['RABBITMQ_URL', 'not a url', 'RABBITMQ_URL'],
    ['KAFKA_BROKERS', 'localhost', 'KAFKA_BROKERS'],
    ['JWT_SECRET', 'short', 'JWT_SECRET: must be at least 32 characters'],
    ['ORDERFLOW_PROT', '1', 'ORDERFLOW_PROT: unknown setting'],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('accepts the settings the scripts read, which the processes they start inherit', () => {
    // .ci/run exports ORDERFLOW_LOCAL_IMAGES=1 and npm test then starts orderflow up under it
    const env = { ORDERFLOW_LOCAL_IMAGES: '1', ORDERFLOW_CLUSTER_TESTS: '0', ORDERFLOW_STACK: 'external' };
    expect(loadConfig(env).http.port).toBe(8080);
  });

  it('parses a broker list and treats empty values as unset', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9093', PORT: '' });
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(config.http.port).toBe(8080);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'PORT']);
    }
  });
});

describe('JWT settings', () => {
  it('refuses production without a secret, and weak secrets anywhere', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required in production/);
    expect(() => loadConfig({ JWT_SECRET: 'a'.repeat(40) })).toThrow(/JWT_SECRET: is too predictable/);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'Zq8v1N0pX3rT6yB9cE2gH5jK7mL4sW0dF1aQ' }).env,
    ).toBe('production');
  });

  it('needs both keys for a key-pair algorithm', () => {
    expect(() => loadConfig({ JWT_ALGORITHM: 'RS256' })).toThrow(
      /JWT_PRIVATE_KEY: and JWT_PUBLIC_KEY are required for RS256/,
    );
  });
});

import { logLevel } from 'kafkajs';
import { kafkaLogLevel } from './kafkajs';

describe('kafkaLogLevel', () => {
  it.each([
    // Error responses kafkajs retries itself, as a fresh broker answers them.
    [
      logLevel.ERROR,
      'Response InitProducerId(key: 22, version: 1)',
      "The coordinator is loading and hence can't process requests for this group",
      'debug',
    ],
    [
      logLevel.ERROR,
      'Response GroupCoordinator(key: 10, version: 2)',
      'The group coordinator is not available',
      'debug',
    ],
    [
      logLevel.ERROR,
      'Response OffsetFetch(key: 9, version: 4)',
      'This is not the correct coordinator for this group',
      'debug',
    ],
    [
      logLevel.ERROR,
      'Response Metadata(key: 3, version: 6)',
      'This server does not host this topic-partition',
      'debug',
    ],
    // Error responses that retrying does not fix stay errors.
    [
      logLevel.ERROR,
      'Response Produce(key: 0, version: 7)',
      'Not authorized to access topics: [Topic authorization failed]',
      'error',
    ],
    [
      logLevel.ERROR,
      'Response Metadata(key: 3, version: 6)',
      'The request attempted to perform an operation on an invalid topic',
      'error',
    ],
    // Everything else keeps its level, but info is debug and the known start-up warnings are quiet.
    [logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded', 'The coordinator is loading', 'error'],
    [logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', undefined, 'error'],
    [logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner', undefined, 'debug'],
    [logLevel.WARN, 'Consumer group rebalancing', undefined, 'warn'],
    [logLevel.INFO, 'Consumer has joined the group', undefined, 'debug'],
  ])('%s %s (%s) -> %s', (level, message, error, expected) => {
    expect(kafkaLogLevel(level, message, error)).toBe(expected);
  });
});

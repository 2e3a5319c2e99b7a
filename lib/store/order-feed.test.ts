import { HistorySequencer, type HistoryRow } from './order-feed';

const row = (id: number): HistoryRow => ({
  id,
  orderId: 'o',
  customerId: 'c',
  merchantId: 'm',
  totalCents: 1,
  fromStatus: null,
  toStatus: 'PENDING',
  reason: null,
  at: new Date(0),
});
const rows = (...ids: number[]) => ids.map(row);
const ids = (delivered: HistoryRow[]) => delivered.map((r) => r.id);

describe('HistorySequencer', () => {
  it.each([
    {
      case: 'contiguous ids go out at once',
      reads: [[11, 12, 13]],
      at: [0],
      delivered: [[11, 12, 13]],
      watermark: 13,
    },
    {
      case: 'a missing id holds back the rows above it until it is read',
      reads: [
        [11, 13],
        [12, 13],
      ],
      at: [0, 50],
      delivered: [[11], [12, 13]],
      watermark: 13,
    },
    {
      case: 'or until it has been missing for the timeout (a rolled-back transaction)',
      reads: [[11, 13], [13]],
      at: [0, 2000],
      delivered: [[11], [13]],
      watermark: 13,
    },
    { case: 'and not before', reads: [[11, 13], [13]], at: [0, 1999], delivered: [[11], []], watermark: 11 },
    {
      case: 'a gap noticed later than another waits its own full timeout',
      reads: [[12], [12, 14], [12, 14]],
      at: [0, 1000, 2000],
      delivered: [[], [], [12]],
      watermark: 12,
    },
    {
      case: 'and then goes too',
      reads: [[12], [12, 14], [12, 14]],
      at: [0, 1000, 3000],
      delivered: [[], [], [12, 14]],
      watermark: 14,
    },
    {
      case: 'rows read again at or below the watermark are not delivered twice',
      reads: [
        [11, 12],
        [11, 12, 13],
      ],
      at: [0, 10],
      delivered: [[11, 12], [13]],
      watermark: 13,
    },
  ])('$case', ({ reads, at, delivered, watermark }) => {
    const sequencer = new HistorySequencer(10, 2000);
    const got = reads.map((read, i) => ids(sequencer.accept(rows(...read), at[i]!).deliver));
    expect(got).toEqual(delivered);
    expect(sequencer.watermark).toBe(watermark);
  });

  it('says when the missing id that blocks delivery will be given up', () => {
    const sequencer = new HistorySequencer(10, 2000);
    expect(sequencer.accept(rows(12), 100)).toEqual({ deliver: [], retryInMs: 2000 });
    expect(sequencer.accept(rows(12), 600)).toEqual({ deliver: [], retryInMs: 1500 });
    expect(sequencer.accept(rows(11, 12), 700)).toEqual({ deliver: rows(11, 12) });
  });
});

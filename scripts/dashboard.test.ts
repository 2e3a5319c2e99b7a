import { readFileSync } from 'node:fs';
import { DASHBOARD_FILE, orderflowDashboard } from './dashboard';

describe('the Grafana dashboard', () => {
  it('is committed exactly as scripts/dashboard.ts builds it (npm run dashboard)', () => {
    const committed = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(orderflowDashboard())));
  });

  it('gives every panel a unique id and every query a unique refId within its panel', () => {
    const panels = orderflowDashboard().panels ?? [];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      const targets = ('targets' in panel ? (panel.targets ?? []) : []) as { refId?: string }[];
      const refIds = targets.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });
});

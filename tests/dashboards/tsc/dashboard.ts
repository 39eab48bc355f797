// The type every generated dashboard is checked against (tests/dashboards/test_tsc.py).
//
// @grafana/schema's Dashboard types panels loosely (options: Record<string, unknown>),
// so it is narrowed here: a panel is a union discriminated on `type`, each member
// carrying that panel plugin's own Options / FieldConfig from @grafana/schema.
// Object literals then get excess-property checks at every level, and enum-typed
// fields accept exactly the enum's values (Lit<> turns string enums into their
// literal unions, since JSON holds strings, not enum members).
import type * as G from '@grafana/schema';
import type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as Heatmap from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
import type * as Histogram from '@grafana/schema/dist/esm/raw/composable/histogram/panelcfg/x/HistogramPanelCfg_types.gen';
import type * as PieChart from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as Text from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as XYChart from '@grafana/schema/dist/esm/raw/composable/xychart2/panelcfg/x/XYChart2PanelCfg_types.gen';

type Lit<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends Array<infer U>
      ? Array<Lit<U>>
      : T extends object
        ? { [K in keyof T]: Lit<T[K]> }
        : T;

interface FieldConfigSource<C> {
  defaults: Omit<G.FieldConfig, 'custom'> & { custom?: Partial<C> };
  overrides: G.FieldConfigSource['overrides'];
}

type PanelOf<T extends string, O, C> = Omit<G.Panel, 'type' | 'options' | 'fieldConfig'> & {
  type: T;
  options: Partial<O>;
  fieldConfig: FieldConfigSource<C>;
};

type Empty = Record<string, never>;

export type Panel =
  | PanelOf<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>
  | PanelOf<'stat', Stat.Options, Empty>
  | PanelOf<'bargauge', BarGauge.Options, Empty>
  | PanelOf<'table', Table.Options, Table.FieldConfig>
  | PanelOf<'piechart', PieChart.Options, PieChart.FieldConfig>
  | PanelOf<'heatmap', Heatmap.Options, Heatmap.FieldConfig>
  | PanelOf<'histogram', Histogram.Options, Histogram.FieldConfig>
  | PanelOf<'xychart', XYChart.Options, XYChart.FieldConfig>
  | PanelOf<'text', Text.Options, Empty>;

export type RowPanel = Omit<G.RowPanel, 'panels'> & { panels: Panel[] };

export type Dashboard = Lit<Omit<G.Dashboard, 'panels'> & { panels?: Array<Panel | RowPanel> }>;

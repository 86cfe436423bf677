//! The report's charts as inline SVG: the entropy/bytes scatter, the alert
//! timeline and a flow's byte histogram. Each takes plain numbers and
//! returns markup; titles (`<title>`) give the values on hover, with no
//! script.

use super::html::Html;
use super::time::utc;

/// Each class of flows (clean, flagged) is drawn one dot per flow up to
/// this many, and as a grid of binned cells above.
pub const SCATTER_DOTS: usize = 2000;
const GRID_X: usize = 90;
const GRID_Y: usize = 40;
/// Bins of the alert timeline.
const TIME_BINS: usize = 120;

const WIDTH: f64 = 900.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

fn f(x: f64) -> String {
    format!("{x:.1}")
}

/// One flow in the scatter: the side with the higher entropy.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub bytes: u64,
    pub entropy: f32,
    pub flagged: bool,
    /// The flow's section in the page, when it is listed.
    pub anchor: Option<usize>,
}

/// Maps data to the plot area of a chart `height` high.
struct Frame {
    height: f64,
}

impl Frame {
    fn plot_w(&self) -> f64 {
        WIDTH - LEFT - RIGHT
    }
    fn plot_h(&self) -> f64 {
        self.height - TOP - BOTTOM
    }
    /// `fx`, `fy` in 0..=1 to pixels.
    fn at(&self, fx: f64, fy: f64) -> (f64, f64) {
        (
            LEFT + fx.clamp(0.0, 1.0) * self.plot_w(),
            TOP + (1.0 - fy.clamp(0.0, 1.0)) * self.plot_h(),
        )
    }
    fn open(&self, h: &mut Html, id: &str, label: &str) {
        let view = format!("0 0 {WIDTH} {}", self.height);
        h.open(
            "svg",
            &[
                ("id", id),
                ("viewBox", &view),
                ("role", "img"),
                ("aria-label", label),
                ("xmlns", "http://www.w3.org/2000/svg"),
            ],
        );
        let (x0, y0) = self.at(0.0, 0.0);
        let (x1, y1) = self.at(1.0, 1.0);
        let (x, y, w, ht) = (f(x0), f(y1), f(x1 - x0), f(y0 - y1));
        h.empty(
            "rect",
            &[
                ("x", &x),
                ("y", &y),
                ("width", &w),
                ("height", &ht),
                ("class", "plot"),
            ],
        );
    }
    fn x_tick(&self, h: &mut Html, fx: f64, label: &str) {
        let (x, y) = self.at(fx, 0.0);
        h.empty(
            "line",
            &[
                ("x1", &f(x)),
                ("x2", &f(x)),
                ("y1", &f(y)),
                ("y2", &f(y + 4.0)),
                ("class", "axis"),
            ],
        );
        // The outer labels run inwards, so that they stay on the chart.
        let class = match fx {
            x if x <= 0.0 => "tick",
            x if x >= 1.0 => "tick end",
            _ => "tick mid",
        };
        h.elem(
            "text",
            &[("x", &f(x)), ("y", &f(y + 16.0)), ("class", class)],
            label,
        );
    }
    fn y_tick(&self, h: &mut Html, fy: f64, label: &str) {
        let (x, y) = self.at(0.0, fy);
        h.empty(
            "line",
            &[
                ("x1", &f(x - 4.0)),
                ("x2", &f(x)),
                ("y1", &f(y)),
                ("y2", &f(y)),
                ("class", "axis"),
            ],
        );
        h.elem(
            "text",
            &[
                ("x", &f(x - 6.0)),
                ("y", &f(y + 4.0)),
                ("class", "tick end"),
            ],
            label,
        );
    }
    fn x_label(&self, h: &mut Html, label: &str) {
        let (x, y) = self.at(0.5, 0.0);
        h.elem(
            "text",
            &[("x", &f(x)), ("y", &f(y + 32.0)), ("class", "label mid")],
            label,
        );
    }
}

/// `1k`, `10M`: a power of ten of bytes.
fn power_label(p: u32) -> String {
    let units = ["", "k", "M", "G", "T", "P"];
    let unit = units[(p / 3).min(5) as usize];
    format!("{}{unit}", 10u64.pow(p % 3))
}

/// Every flow's entropy against its bytes (log scale), the threshold
/// dashed.
pub fn scatter(points: &[Point], threshold: f32) -> Html {
    let frame = Frame { height: 380.0 };
    let mut h = Html::new();
    frame.open(
        &mut h,
        "scatter",
        "entropy against bytes, one mark per flow",
    );
    let max = points.iter().map(|p| p.bytes).max().unwrap_or(1).max(10);
    let decades = (max as f64).log10().ceil().max(1.0);
    let fx = |bytes: u64| (bytes.max(1) as f64).log10() / decades;
    let fy = |e: f32| f64::from(e) / 8.0;
    for p in 0..=decades as u32 {
        frame.x_tick(&mut h, f64::from(p) / decades, &power_label(p));
    }
    for bits in (0..=8).step_by(2) {
        frame.y_tick(&mut h, f64::from(bits) / 8.0, &bits.to_string());
    }
    frame.x_label(&mut h, "payload bytes of the side drawn (log scale)");
    let (lx, ly) = frame.at(0.0, 0.5);
    let rotate = format!("rotate(-90 {} {})", f(lx - 40.0), f(ly));
    h.elem(
        "text",
        &[
            ("x", &f(lx - 40.0)),
            ("y", &f(ly)),
            ("transform", &rotate),
            ("class", "label mid"),
        ],
        "bits/byte",
    );
    for flagged in [false, true] {
        let class: Vec<&Point> = points.iter().filter(|p| p.flagged == flagged).collect();
        let css = if flagged { "flagged" } else { "clean" };
        if class.len() <= SCATTER_DOTS {
            for p in class {
                dot(&mut h, &frame, fx(p.bytes), fy(p.entropy), css, p);
            }
        } else {
            binned(
                &mut h,
                &frame,
                class.iter().map(|p| (fx(p.bytes), fy(p.entropy))),
                css,
            );
        }
    }
    let (x0, y) = frame.at(0.0, fy(threshold));
    let (x1, _) = frame.at(1.0, 0.0);
    h.empty(
        "line",
        &[
            ("x1", &f(x0)),
            ("x2", &f(x1)),
            ("y1", &f(y)),
            ("y2", &f(y)),
            ("class", "threshold"),
        ],
    );
    let note = format!("threshold {threshold:.2}");
    h.elem(
        "text",
        &[
            ("x", &f(x1 - 4.0)),
            ("y", &f(y - 5.0)),
            ("class", "tick end threshold-label"),
        ],
        &note,
    );
    h.close("svg");
    h
}

fn dot(h: &mut Html, frame: &Frame, fx: f64, fy: f64, css: &'static str, p: &Point) {
    let (x, y) = frame.at(fx, fy);
    let tip = format!("{} bytes, {:.2} bits/byte", p.bytes, p.entropy);
    let link = p.anchor.map(|i| format!("#flow-{i}"));
    if let Some(href) = &link {
        h.open("a", &[("href", href)]);
    }
    h.open(
        "circle",
        &[("cx", &f(x)), ("cy", &f(y)), ("r", "3.5"), ("class", css)],
    );
    h.elem("title", &[], &tip).close("circle");
    if link.is_some() {
        h.close("a");
    }
}

/// Points counted into a grid; each non-empty cell's opacity grows with
/// the logarithm of its count.
fn binned(
    h: &mut Html,
    frame: &Frame,
    points: impl Iterator<Item = (f64, f64)>,
    css: &'static str,
) {
    let mut grid = vec![0u64; GRID_X * GRID_Y];
    for (fx, fy) in points {
        let gx = ((fx.clamp(0.0, 1.0) * GRID_X as f64) as usize).min(GRID_X - 1);
        let gy = ((fy.clamp(0.0, 1.0) * GRID_Y as f64) as usize).min(GRID_Y - 1);
        grid[gy * GRID_X + gx] += 1;
    }
    let top = grid.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (cw, ch) = (
        frame.plot_w() / GRID_X as f64,
        frame.plot_h() / GRID_Y as f64,
    );
    for (i, &n) in grid.iter().enumerate().filter(|(_, &n)| n > 0) {
        let (gx, gy) = (i % GRID_X, i / GRID_X);
        let (x, y) = frame.at(gx as f64 / GRID_X as f64, (gy + 1) as f64 / GRID_Y as f64);
        let opacity = 0.25 + 0.75 * (1.0 + n as f64).ln() / (1.0 + top).ln();
        h.open(
            "rect",
            &[
                ("x", &f(x)),
                ("y", &f(y)),
                ("width", &f(cw)),
                ("height", &f(ch)),
                ("class", css),
                ("fill-opacity", &format!("{opacity:.2}")),
            ],
        );
        h.elem("title", &[], &format!("{n} flows")).close("rect");
    }
}

/// A flagged flow on the timeline: when it started, and its alerts.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    pub first_us: u64,
    pub alert: usize,
}

/// One lane per alert kind present; flagged flows counted by start time
/// into bins, bar heights relative to the busiest bin of the chart.
pub fn timeline(marks: &[Mark], names: &[&str], span_us: (u64, u64)) -> Html {
    let lanes: Vec<usize> = (0..names.len())
        .filter(|&a| marks.iter().any(|m| m.alert == a))
        .collect();
    let lane_h = 34.0;
    let frame = Frame {
        height: TOP + BOTTOM + lane_h * lanes.len().max(1) as f64,
    };
    let mut h = Html::new();
    frame.open(
        &mut h,
        "timeline",
        "flagged flows over time, one lane per alert",
    );
    let (start, end) = span_us;
    let width_us = end.saturating_sub(start).max(1);
    let bin_of = |t: u64| {
        ((t.saturating_sub(start) as f64 / width_us as f64 * TIME_BINS as f64) as usize)
            .min(TIME_BINS - 1)
    };
    let mut counts = vec![vec![0u64; TIME_BINS]; names.len()];
    for m in marks {
        if let Some(lane) = counts.get_mut(m.alert) {
            lane[bin_of(m.first_us)] += 1;
        }
    }
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    for k in 0..=4 {
        let t = start + width_us / 4 * k;
        frame.x_tick(&mut h, k as f64 / 4.0, &utc(t));
    }
    frame.x_label(&mut h, "flow start (UTC)");
    let bin_w = frame.plot_w() / TIME_BINS as f64;
    for (row, &a) in lanes.iter().enumerate() {
        let base = TOP + lane_h * (row + 1) as f64;
        let (x0, _) = frame.at(0.0, 0.0);
        h.elem(
            "text",
            &[
                ("x", &f(x0 + 4.0)),
                ("y", &f(base - lane_h + 12.0)),
                ("class", "tick lane"),
            ],
            names[a],
        );
        h.empty(
            "line",
            &[
                ("x1", &f(x0)),
                ("x2", &f(x0 + frame.plot_w())),
                ("y1", &f(base)),
                ("y2", &f(base)),
                ("class", "axis"),
            ],
        );
        for (b, &n) in counts[a].iter().enumerate().filter(|(_, &n)| n > 0) {
            let bar = ((lane_h - 14.0) * n as f64 / top).max(2.0);
            let from = start + (width_us as f64 * b as f64 / TIME_BINS as f64) as u64;
            h.open(
                "rect",
                &[
                    ("x", &f(x0 + b as f64 * bin_w)),
                    ("y", &f(base - bar)),
                    ("width", &f(bin_w.max(1.5))),
                    ("height", &f(bar)),
                    ("class", "flagged"),
                ],
            );
            let tip = format!("{n} {} flows starting from {}", names[a], utc(from));
            h.elem("title", &[], &tip).close("rect");
        }
    }
    h.close("svg");
    h
}

/// A direction's byte-value histogram: 256 bars (printable ASCII in one
/// colour, the other bytes in another) and, dashed, the count each value
/// would have if the bytes were uniformly random.
pub fn histogram(counts: &[u32; 256], total: u32, label: &str) -> Html {
    let (w, ht) = (256.0, 56.0);
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let uniform = f64::from(total) / 256.0;
    let scale = max.max(uniform);
    let mut printable = String::new();
    let mut other = String::new();
    for (v, &n) in counts.iter().enumerate().filter(|(_, &n)| n > 0) {
        let bar = (ht - 2.0) * f64::from(n) / scale;
        let path = if (0x20..0x7f).contains(&v) {
            &mut printable
        } else {
            &mut other
        };
        path.push_str(&format!("M{}.5 {ht}v-{:.1}", v, bar.max(0.5)));
    }
    let mut h = Html::new();
    let y = ht - (ht - 2.0) * uniform / scale;
    h.open(
        "svg",
        &[
            ("class", "histogram"),
            ("viewBox", &format!("0 0 {w} {}", ht + 12.0)),
            ("role", "img"),
            ("aria-label", label),
            ("xmlns", "http://www.w3.org/2000/svg"),
        ],
    );
    h.elem("title", &[], label);
    h.empty(
        "rect",
        &[
            ("x", "0"),
            ("y", "0"),
            ("width", "256"),
            ("height", &f(ht)),
            ("class", "plot"),
        ],
    );
    h.empty("path", &[("d", &other), ("class", "bytes-binary")]);
    h.empty("path", &[("d", &printable), ("class", "bytes-printable")]);
    h.empty(
        "line",
        &[
            ("x1", "0"),
            ("x2", "256"),
            ("y1", &f(y)),
            ("y2", &f(y)),
            ("class", "threshold"),
        ],
    );
    for (x, tick, class) in [
        (0.0, "00", "tick small"),
        (32.0, "20", "tick small mid"),
        (127.0, "7f", "tick small mid"),
        (256.0, "ff", "tick small end"),
    ] {
        h.elem(
            "text",
            &[("x", &f(x)), ("y", &f(ht + 10.0)), ("class", class)],
            tick,
        );
    }
    h.close("svg");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(bytes: u64, flagged: bool) -> Point {
        Point {
            bytes,
            entropy: 7.9,
            flagged,
            anchor: None,
        }
    }

    #[test]
    fn scatter_draws_dots_then_bins_above_the_limit() {
        let few: Vec<Point> = (1..100).map(|i| pt(i * 10, i % 7 == 0)).collect();
        let s = scatter(&few, 7.5).into_string();
        assert_eq!(s.matches("<circle").count(), few.len());
        let many: Vec<Point> = (1..=SCATTER_DOTS as u64 + 1)
            .map(|i| pt(i, false))
            .collect();
        let s = scatter(&many, 7.5).into_string();
        assert_eq!(s.matches("<circle").count(), 0);
        let cells = s.matches("class=\"clean\"").count();
        assert!(cells > 10 && cells <= GRID_X * GRID_Y, "{cells}");
    }

    #[test]
    fn histogram_has_a_bar_per_present_value() {
        let mut counts = [0u32; 256];
        counts[b'a' as usize] = 10;
        counts[0x90] = 3;
        let s = histogram(&counts, 13, "x").into_string();
        assert_eq!(s.matches('M').count(), 2);
    }

    #[test]
    fn power_labels() {
        assert_eq!(
            (0..7).map(power_label).collect::<Vec<_>>(),
            ["1", "10", "100", "1k", "10k", "100k", "1M"]
        );
    }
}

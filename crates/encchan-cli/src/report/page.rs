//! The page itself: head and style, then one section per part.

use super::html::Html;
use super::time::utc;
use super::{alert_names, explain, svg, Collector, Listed};
use crate::analyze::Summary;
use encchan_core::Alert;
use serde_json::Value;

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:0 16px 48px;color:#1d2330;background:#fff}
h1{margin:20px 0 4px}h2{border-bottom:2px solid #d8dce6;padding-bottom:4px;margin-top:32px}
nav a{margin-right:14px}a{color:#1b5fb0}
table{border-collapse:collapse;font-size:14px}td,th{padding:3px 10px;border-bottom:1px solid #e4e7ee;text-align:left}
td.nowrap{white-space:nowrap}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.figures{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin:12px 0}
.figure{background:#f3f5f9;border-radius:6px;padding:8px 12px}.figure b{display:block;font-size:22px}
svg{width:100%;height:auto;font-size:12px}
.plot{fill:#fafbfd;stroke:#c9cfdb}.axis{stroke:#8a93a6}.tick{fill:#4a5266}.small{font-size:7px}
.mid{text-anchor:middle}.end{text-anchor:end}.label{fill:#1d2330}.lane{font-weight:600}
.clean{fill:#8a93a6;fill-opacity:.55}.flagged{fill:#c62828}
.threshold{stroke:#c62828;stroke-dasharray:5 4;stroke-width:1.2}.threshold-label{fill:#c62828}
.flow{border:1px solid #d8dce6;border-left:4px solid #c62828;border-radius:6px;padding:4px 14px 10px;margin:14px 0}
.flow h3{font-size:16px;margin:8px 0}.flow h4{margin:10px 0 2px;color:#c62828}
.flow p{margin:2px 0 4px}.meta{color:#4a5266;font-size:13px}
.alert-name{color:#c62828;font-weight:600}
.histograms{display:flex;gap:16px}.histograms figure{margin:6px 0;flex:1}
figcaption{font-size:12px;color:#4a5266}
.histogram{max-width:420px}.bytes-printable{stroke:#1b5fb0}.bytes-binary{stroke:#c62828}
details{font-size:13px;margin-top:6px}code{font-size:13px}
";

/// The whole page.
pub fn render(c: &Collector, summary: &Summary, files: &[String]) -> String {
    let mut h = Html::new();
    h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .raw("<title>encchan report</title><style>")
        .raw(STYLE)
        .raw("</style></head><body>");
    h.raw("<header><h1>encchan report</h1>");
    h.elem(
        "p",
        &[("class", "meta")],
        &format!(
            "{} capture{} · encchan {} · MITRE ATT&CK T1573 (encrypted channel)",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            crate::args::VERSION.as_str()
        ),
    );
    h.raw(
        "</header><nav><a href=\"#summary\">Summary</a><a href=\"#entropy\">Entropy and bytes</a>",
    )
    .raw("<a href=\"#timeline-section\">Timeline</a><a href=\"#flagged\">Flagged flows</a></nav>");
    summary_section(&mut h, c, summary, files);
    scatter_section(&mut h, c);
    timeline_section(&mut h, c, summary);
    flagged_section(&mut h, c);
    h.raw("</body></html>\n");
    h.into_string()
}

fn figure(h: &mut Html, value: &str, label: &str) {
    h.open("div", &[("class", "figure")])
        .elem("b", &[], value)
        .text(label)
        .close("div");
}

fn summary_section(h: &mut Html, c: &Collector, s: &Summary, files: &[String]) {
    h.raw("<section id=\"summary\"><h2>Summary</h2><div class=\"figures\">");
    figure(h, &files.len().to_string(), "captures");
    figure(h, &s.flows.to_string(), "flows");
    figure(h, &human_bytes(c.payload_bytes), "payload bytes");
    figure(h, &s.flows_with_alerts.to_string(), "flows with alerts");
    h.raw("</div>");
    if let Some((a, b)) = s.span_us {
        h.elem(
            "p",
            &[],
            &format!("{} packets from {} to {} UTC.", s.packets, utc(a), utc(b)),
        );
    }
    h.raw("<table id=\"alerts-by-kind\"><tr><th>alert</th><th>ATT&amp;CK</th><th class=\"n\">flows</th></tr>");
    for (a, n) in Alert::ALL.iter().zip(s.per_alert).filter(|(_, n)| *n > 0) {
        h.raw("<tr><td class=\"alert-name\">")
            .text(a.name())
            .raw("</td><td>")
            .text(a.technique())
            .raw("</td><td class=\"n\">")
            .text(&n.to_string())
            .raw("</td></tr>");
    }
    if s.flows_with_alerts == 0 {
        h.raw("<tr><td colspan=\"3\">no alerts</td></tr>");
    }
    h.raw("</table>");
    let skipped = s.skipped_fragments
        + s.skipped_not_ip
        + s.skipped_malformed
        + s.skipped_other_transport
        + s.skipped_link;
    if skipped > 0 {
        h.elem(
            "p",
            &[("class", "meta")],
            &format!(
                "Packets skipped: {} IP fragments, {} not IP, {} malformed, {} other transports, {} unknown link types.",
                s.skipped_fragments, s.skipped_not_ip, s.skipped_malformed, s.skipped_other_transport, s.skipped_link
            ),
        );
    }
    for e in &s.errors {
        h.elem(
            "p",
            &[("class", "alert-name")],
            &format!("Not read to its end: {e}"),
        );
    }
    h.raw("<details><summary>Captures</summary><ul>");
    for f in files {
        h.elem("li", &[], f);
    }
    h.raw("</ul></details></section>");
}

fn scatter_section(h: &mut Html, c: &Collector) {
    h.raw("<section id=\"entropy\"><h2>Entropy and bytes</h2>");
    h.elem(
        "p",
        &[],
        &format!(
            "Every flow as the side with the higher collision entropy: its bits per byte against the payload bytes that side sent. \
             Red: flows with an alert (a click leads to the listed ones). Dashed: the entropy threshold {:.2} for raw bytes; \
             flows above it and not flagged were explained (a key exchange, a compressed format). \
             Each class is drawn one dot per flow up to {} flows, and counted in grid cells above (the darker, the more). \
             {} flows measured too few bytes for an entropy and are not drawn.",
            c.threshold,
            svg::SCATTER_DOTS,
            c.unmeasured
        ),
    );
    h.append(svg::scatter(&c.points, c.threshold));
    h.raw("</section>");
}

fn timeline_section(h: &mut Html, c: &Collector, s: &Summary) {
    h.raw("<section id=\"timeline-section\"><h2>Timeline of alerts</h2>");
    if c.marks.is_empty() {
        h.raw("<p>No alerts.</p></section>");
        return;
    }
    h.raw("<p>Flagged flows by the time they began, one lane per alert; bar heights count flows in the same slice of the capture's time.</p>");
    let span = s.span_us.unwrap_or((0, 1));
    h.append(svg::timeline(&c.marks, &alert_names(), span));
    h.raw("</section>");
}

fn flagged_section(h: &mut Html, c: &Collector) {
    h.raw("<section id=\"flagged\"><h2>Flagged flows</h2>");
    let unlisted = c.flagged - c.listed.len() as u64;
    h.elem(
        "p",
        &[],
        &format!(
            "{} flows raised alerts.{}",
            c.flagged,
            if unlisted > 0 {
                format!(
                    " The first {} to end are described below; {unlisted} more are counted in the summary and the charts only (--max-listed raises the limit).",
                    c.listed.len()
                )
            } else {
                String::new()
            }
        ),
    );
    if c.listed.is_empty() {
        h.raw("</section>");
        return;
    }
    h.raw("<table id=\"flagged-index\"><tr><th>#</th><th>alerts</th><th>client → server</th><th>protocol</th><th class=\"n\">bytes c/s</th><th>capture</th></tr>");
    for (i, l) in c.listed.iter().enumerate() {
        let r = &l.record;
        h.raw("<tr><td>");
        h.elem("a", &[("href", &format!("#flow-{i}"))], &i.to_string());
        h.raw("</td><td class=\"alert-name\">")
            .text(&alerts(r).join(", "))
            .raw("</td><td class=\"nowrap\">")
            .text(&format!(
                "{} → {}",
                endpoint(&r["client"]),
                endpoint(&r["server"])
            ))
            .raw("</td><td>")
            .text(&protocol(r))
            .raw("</td><td class=\"n\">")
            .text(&format!(
                "{}/{}",
                r["bytes"]["client"], r["bytes"]["server"]
            ))
            .raw("</td><td>")
            .text(short_name(r["pcap"].as_str().unwrap_or("")))
            .raw("</td></tr>");
    }
    h.raw("</table>");
    for (i, l) in c.listed.iter().enumerate() {
        flow_article(h, i, l);
    }
    h.raw("</section>");
}

fn flow_article(h: &mut Html, i: usize, l: &Listed) {
    let r = &l.record;
    let key = format!(
        "{} {} {} {} {}",
        r["proto"].as_str().unwrap_or(""),
        r["client"]["ip"].as_str().unwrap_or(""),
        r["client"]["port"],
        r["server"]["ip"].as_str().unwrap_or(""),
        r["server"]["port"]
    );
    let names = alerts(r).join(" ");
    h.open(
        "article",
        &[
            ("class", "flow"),
            ("id", &format!("flow-{i}")),
            ("data-flow", &key),
            ("data-alerts", &names),
            ("data-pcap", r["pcap"].as_str().unwrap_or("")),
        ],
    );
    h.elem(
        "h3",
        &[],
        &format!(
            "#{i} {} {} → {} · {}",
            r["proto"].as_str().unwrap_or(""),
            endpoint(&r["client"]),
            endpoint(&r["server"]),
            protocol(r)
        ),
    );
    h.elem(
        "p",
        &[("class", "meta")],
        &format!(
            "{} · {} to {} UTC · content {} · client sent {} bytes, server {} · ended by {}{}",
            r["pcap"].as_str().unwrap_or(""),
            utc(seconds_to_us(&r["first_ts"])),
            utc(seconds_to_us(&r["last_ts"])),
            r["content"].as_str().unwrap_or("?"),
            r["bytes"]["client"],
            r["bytes"]["server"],
            r["end"].as_str().unwrap_or("?"),
            decided(r)
        ),
    );
    for name in alerts(r) {
        let evidence = &r["evidence"][name];
        let technique = Alert::ALL
            .iter()
            .find(|a| a.name() == name)
            .map_or("", |a| a.technique());
        h.open("h4", &[])
            .text(name)
            .raw(" <small>")
            .text(technique)
            .raw("</small>")
            .close("h4");
        for sentence in explain::explain(name, evidence, r) {
            h.elem("p", &[], &sentence);
        }
    }
    histograms(h, l);
    h.raw("<details><summary>All evidence fields</summary><table>");
    for name in alerts(r) {
        let mut rows = Vec::new();
        flatten(name, &r["evidence"][name], &mut rows);
        for (k, v) in rows {
            h.raw("<tr><td><code>")
                .text(&k)
                .raw("</code></td><td>")
                .text(&v)
                .raw("</td></tr>");
        }
    }
    h.raw("</table></details>");
    h.close("article");
}

/// The byte histograms of the flow's sides, with what they show.
fn histograms(h: &mut Html, l: &Listed) {
    let Some(counts) = &l.counts else {
        return;
    };
    h.raw("<div class=\"histograms\">");
    for (side, name) in ["client", "server"].iter().enumerate() {
        let total = counts.total[side];
        if total == 0 {
            continue;
        }
        let caption = format!(
            "Bytes the {name} sent: how often each value 00–ff occurs in the first {total} bytes \
             (the engine's inspection window, protocol headers included). \
             Blue: printable ASCII; red: other bytes; dashed: what uniformly random bytes give per value ({:.1}).",
            f64::from(total) / 256.0
        );
        h.raw("<figure>");
        h.append(svg::histogram(
            &counts.counts[side],
            total,
            &format!("byte values the {name} sent"),
        ));
        h.elem("figcaption", &[], &caption);
        h.raw("</figure>");
    }
    h.raw("</div>");
}

/// `key.sub = value` rows of an evidence object.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn alerts(r: &Value) -> Vec<&str> {
    r["alerts"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn endpoint(e: &Value) -> String {
    let ip = e["ip"].as_str().unwrap_or("?");
    if ip.contains(':') {
        format!("[{ip}]:{}", e["port"])
    } else {
        format!("{ip}:{}", e["port"])
    }
}

fn protocol(r: &Value) -> String {
    let p = r["protocol"].as_str().unwrap_or("unrecognized");
    match r["carrier"].as_str() {
        Some(c) => format!("{c}/{p}"),
        None => p.to_owned(),
    }
}

fn decided(r: &Value) -> String {
    match (
        r["decided_after_bytes"].as_object(),
        r["decided_at_end"].as_bool(),
    ) {
        (_, Some(true)) => " · alert published at the flow's end".to_owned(),
        (Some(d), _) => format!(
            " · alert published after {} client and {} server bytes",
            d["client"], d["server"]
        ),
        _ => String::new(),
    }
}

fn seconds_to_us(v: &Value) -> u64 {
    (v.as_f64().unwrap_or(0.0) * 1e6).round() as u64
}

/// A capture's file name without its directories.
fn short_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < units.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", units[u])
    }
}

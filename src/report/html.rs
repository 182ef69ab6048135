//! The report's one HTML page: every table and figure, with links to the SVG files.

use std::path::Path;

use super::tables::html_escape;

/// A piece of the page.
pub enum Block {
    /// Raw HTML made by the report (tables).
    Html(String),
    /// A figure: its PNG (relative to the page) and caption; the SVG lies beside the PNG.
    Figure { png: String, caption: String },
    /// A plain paragraph of text (escaped).
    Text(String),
}

pub struct Section {
    pub title: String,
    pub blocks: Vec<Block>,
}

const STYLE: &str = "body{font-family:'DejaVu Sans',sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border-bottom:1px solid #ccc;padding:.3em .8em;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}\
figcaption{font-size:.9em;color:#555}.broken{color:#a00}";

/// The page's HTML.
pub fn page(title: &str, sections: &[Section]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = html_escape(title)
    );
    out.push_str("<nav><ul>\n");
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!(
            "<li><a href=\"#s{i}\">{}</a></li>\n",
            html_escape(&s.title)
        ));
    }
    out.push_str("</ul></nav>\n");
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!("<h2 id=\"s{i}\">{}</h2>\n", html_escape(&s.title)));
        for block in &s.blocks {
            match block {
                Block::Html(html) => out.push_str(html),
                Block::Text(text) => out.push_str(&format!("<p>{}</p>\n", html_escape(text))),
                Block::Figure { png, caption } => {
                    let svg = Path::new(png).with_extension("svg");
                    out.push_str(&format!(
                        "<figure><img src=\"{png}\" alt=\"{c}\"><figcaption>{c} (<a href=\"{svg}\">SVG</a>)</figcaption></figure>\n",
                        png = html_escape(png),
                        svg = html_escape(&svg.to_string_lossy()),
                        c = html_escape(caption),
                    ));
                }
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

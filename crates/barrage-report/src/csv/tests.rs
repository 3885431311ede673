//! Locust's CSV files from a known result: headers, row order, number formats and the
//! documented stand-ins (`N/A`, running totals).

use super::*;
use crate::result_testdata::result;

fn lines(text: &str) -> Vec<&str> {
    assert!(
        text.ends_with("\r\n"),
        "rows end with \\r\\n as Python's csv writes"
    );
    text.trim_end_matches("\r\n").split("\r\n").collect()
}

fn cells(line: &str) -> Vec<&str> {
    line.split(',').collect()
}

#[test]
fn stats_rows_follow_locust_order_columns_and_formats() {
    let doc = result();
    let out = LocustCsv::from_result(&doc, false);
    let rows = lines(&out.stats);
    assert_eq!(
        rows[0],
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
         Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,\
         50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
    );
    let names: Vec<&str> = rows[1..].iter().map(|r| cells(r)[1]).collect();
    assert_eq!(
        names[..3],
        ["/items/", "/items/[item_name]", "/never-called"]
    );
    assert!(names[3].starts_with("/very/"));
    assert_eq!(names[4], "Aggregated");

    let post = cells(rows[1]);
    let rt = &doc.endpoints[1].response_time;
    assert_eq!(post[..4], ["POST", "/items/", "100", "0"]);
    assert_eq!(post[4], format!("{}", rt.p50.round()));
    assert_eq!(post[5], format!("{}", rt.mean));
    assert_eq!(
        post[6], "0.999936",
        "the bucket's bottom, as the summary shows it"
    );
    assert_eq!(post[7], format!("{}", rt.max));
    assert_eq!(
        super::py_float(100.0),
        "100.0",
        "Python writes whole floats with `.0`"
    );
    assert_eq!(post[8], "2048.0", "bytes received per request");
    assert_eq!(post[9], format!("{}", 100.0 / 65.0));
    assert_eq!(post[10], "0.0");
    // Percentiles of 1..=100 ms from the histogram, whole milliseconds.
    assert_eq!(
        post[11..],
        ["50", "66", "75", "80", "90", "95", "98", "99", "100", "100", "100"]
    );

    let idle = cells(rows[3]);
    assert_eq!(idle[2..9], ["0", "0", "0", "0.0", "0", "0", "0"]);
    assert!(idle[11..].iter().all(|c| *c == "N/A"), "{idle:?}");

    let agg = cells(rows[5]);
    assert_eq!(agg[..4], ["", "Aggregated", "1300", "3"]);
    assert_eq!(agg[10], format!("{}", 3.0 / 65.0));
}

#[test]
fn history_rows_are_per_second_with_running_totals() {
    let out = LocustCsv::from_result(&result(), false);
    let rows = lines(&out.stats_history);
    assert_eq!(
        rows[0],
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,\
         50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,\
         Total Request Count,Total Failure Count,Total Median Response Time,\
         Total Average Response Time,Total Min Response Time,Total Max Response Time,\
         Total Average Content Size"
    );
    assert_eq!(rows.len(), 3, "one Aggregated row per second");
    assert_eq!(
        rows[1],
        "1769868310,60,,Aggregated,20.000000,1.000000,5,N/A,N/A,N/A,N/A,9,N/A,12,N/A,N/A,16,20,1,N/A,N/A,N/A,15.5,N/A"
    );
    assert_eq!(
        rows[2],
        "1769868311,120,,Aggregated,30.000000,0.000000,5,N/A,N/A,N/A,N/A,10,N/A,11,N/A,N/A,13,50,1,N/A,N/A,N/A,15.5,N/A"
    );
}

#[test]
fn full_history_adds_a_row_per_endpoint_and_second() {
    let out = LocustCsv::from_result(&result(), true);
    let rows = lines(&out.stats_history);
    // 2 seconds × (4 endpoints + Aggregated).
    assert_eq!(rows.len(), 1 + 2 * 5);
    let second_two: Vec<Vec<&str>> = rows[6..].iter().map(|r| cells(r)).collect();
    assert_eq!(
        second_two[0][2..6],
        ["POST", "/items/", "5.000000", "0.000000"]
    );
    assert_eq!(second_two[0][6], "3");
    assert_eq!(second_two[0][17..19], ["5", "0"]);
    assert_eq!(second_two[1][2..4], ["GET", "/items/[item_name]"]);
    assert_eq!(
        second_two[1][17..19],
        ["45", "1"],
        "running totals per endpoint"
    );
    assert!(
        second_two[2][6..17].iter().all(|c| *c == "N/A"),
        "idle: no percentiles"
    );
    assert_eq!(second_two[4][3], "Aggregated");
    for row in &second_two {
        assert_eq!(row.len(), 24, "{row:?}");
    }
}

#[test]
fn failures_have_a_row_per_endpoint_and_category_and_exceptions_a_header() {
    let out = LocustCsv::from_result(&result(), false);
    let rows = lines(&out.failures);
    assert_eq!(
        rows[0],
        "Method,Name,Error,Occurrences,First Seen,Last Seen"
    );
    assert_eq!(
        rows[1],
        "GET,/items/[item_name],\"status: HTTP 500 Internal Server Error: {\"\"detail\"\":\"\"boom\"\"}\",3,2026-01-31T14:05:09Z,2026-01-31T14:05:10Z"
    );
    assert_eq!(
        rows[2],
        "POST,/items/,connect_refused: connection refused (127.0.0.1:8000),7,,"
    );
    assert_eq!(out.exceptions, "Count,Message,Traceback,Nodes\r\n");
}

#[test]
fn files_get_locusts_names() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("run").display().to_string();
    let paths = LocustCsv::from_result(&result(), false)
        .write(&prefix)
        .unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "run_stats.csv",
            "run_stats_history.csv",
            "run_failures.csv",
            "run_exceptions.csv"
        ]
    );
    for p in &paths {
        assert!(p.exists());
    }
}

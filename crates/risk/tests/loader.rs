//! Loader tests: every column spelling, both scales, quoted Apache files, bad files.

use changegate_risk::jit::{LoadError, MetricScale, denormalise, idx, load_csv, load_str, normalise_absolute};

const KAMEI: &str = "transactionid,commitdate,ns,nm,nf,entropy,la,ld,lt,fix,ndev,pd,npt,exp,rexp,sexp,bug
3,2001/12/12 17:41,1,1,3,0.579380164,0.093619972,0,480.6666667,1,14,596,0.666666667,143,133.5,129,1
7,1999/10/12 12:57,1,1,1,0,0,0,398,1,1,0,1,140,140,137,0
";

const APACHE: &str = r#""","transactionid","commitdate","ns","nm","nf","entropy","la","ld","lt","fix","ndev","pd","npt","exp","rexp","sexp","bug"
"1",1,"2010-07-26 09:52:17",8,1,1,0,0.265625,0,256,0,8,1,0,8,1,0,1
"2",2,"2016-11-22 10:57:20",4,1,1,0,0.0135135135135135,0,74,1,4,1,NA,4,1,0,0
"3",3,NA,4,1,1,0,0.5,0,74,1,4,1,2,4,1,0,0
"#;

const HELD_OUT: &str = "_id,date,bug,ns,nd,nf,entrophy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp
a1,1300000000,1,1,2,2,0.9,120,30,600,False,3,10.5,8,50,5.5,20
a2,1300000100,0,1,1,1,0,10,2,100,True,1,2,3,60,6,30
a3,1300000200,0,1,1,1,0,40,0,0,0,1,2,3,60,6,30
";

#[test]
fn kamei_spelling() {
    let ds = load_str(KAMEI).unwrap();
    assert_eq!(ds.rows.len(), 2);
    assert_eq!(ds.scale, MetricScale::Normalised);
    let r = &ds.rows[0];
    assert_eq!(r.time_unix_s, 1_008_178_860);
    assert!(r.bug && !ds.rows[1].bug);
    assert_eq!(r.metrics[idx::NF], 3.0);
    assert_eq!(r.metrics[idx::AGE], 596.0);
    assert!((r.metrics[idx::NUC] - 0.666666667).abs() < 1e-12);
    assert_eq!(r.metrics[idx::SEXP], 129.0);
}

#[test]
fn quoted_apache_spelling_with_missing_values() {
    let ds = load_csv(APACHE.as_bytes()).unwrap();
    assert_eq!(ds.rows.len(), 2, "the row without a date is skipped");
    assert_eq!(ds.skipped_rows, 1);
    assert_eq!(ds.rows[0].time_unix_s, 1_280_137_937);
    assert_eq!(ds.rows[0].metrics[idx::NS], 8.0);
    assert!(ds.rows[1].metrics[idx::NUC].is_nan(), "NA is a missing value");
    let sorted = ds.sorted_by_time();
    assert!(sorted[0].time_unix_s <= sorted[1].time_unix_s);
}

#[test]
fn held_out_spelling_absolute_scale() {
    let ds = load_str(HELD_OUT).unwrap();
    assert_eq!(ds.scale, MetricScale::Absolute);
    assert_eq!(ds.rows.len(), 3);
    let m = &ds.rows[0].metrics;
    assert_eq!(ds.rows[0].time_unix_s, 1_300_000_000);
    assert!(ds.rows[0].bug);
    assert_eq!(m[idx::ND], 2.0);
    assert_eq!(m[idx::ENTROPY], 0.9);
    assert_eq!(m[idx::FIX], 0.0);
    assert_eq!(ds.rows[1].metrics[idx::FIX], 1.0);
    // Converted to Kamei's scale: la/lt, ld/lt, lt/nf, nuc/nf.
    assert!((m[idx::LA] - 0.2).abs() < 1e-12);
    assert!((m[idx::LD] - 0.05).abs() < 1e-12);
    assert!((m[idx::LT] - 300.0).abs() < 1e-12);
    assert!((m[idx::NUC] - 4.0).abs() < 1e-12);
    // lt = 0: the ratio is undefined; the absolute count is kept, as in Kamei's files.
    assert_eq!(ds.rows[2].metrics[idx::LA], 40.0);
}

#[test]
fn normalise_and_denormalise_round_trip() {
    for lt in [600.0, 0.0] {
        let abs = [1.0, 2.0, 4.0, 0.5, 120.0, 30.0, lt, 1.0, 3.0, 10.0, 8.0, 50.0, 5.0, 20.0];
        let back = denormalise(&normalise_absolute(&abs));
        for (a, b) in abs.iter().zip(back) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }
}

#[test]
fn header_case_and_extra_columns() {
    let text = "ID,Date,NS,ND,NF,Entropy,LA,LD,LT,FIX,NDEV,AGE,NUC,EXP,REXP,SEXP,BUG,project\n\
                x,1600000000,1,1,1,0,0.1,0,10,0,1,1,1,1,1,1,true,p\n";
    let ds = load_str(text).unwrap();
    assert!(ds.rows[0].bug);
}

fn err(text: &str) -> String {
    load_str(text).unwrap_err().to_string()
}

#[test]
fn empty_file() {
    assert!(matches!(load_str(""), Err(LoadError::Empty)));
    assert!(err("").contains("empty file"));
    assert!(matches!(
        load_str("ns,nd,nf,entropy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp,bug,date\n"),
        Err(LoadError::NoRows)
    ));
}

#[test]
fn missing_metric_column() {
    let text = KAMEI.replace(",npt,", ",xyz,");
    let e = err(&text);
    assert!(e.contains("missing column `nuc`") && e.contains("nuc or npt"), "{e}");
}

#[test]
fn missing_label_and_date() {
    let e = err(&KAMEI.replace(",bug", ",label"));
    assert!(e.contains("missing column `bug`"), "{e}");
    let e = err(&KAMEI.replace("commitdate", "when"));
    assert!(e.contains("missing column `date`"), "{e}");
}

#[test]
fn non_numeric_value_names_line_and_column() {
    let text = KAMEI.replace(",143,", ",lots,");
    let e = load_str(&text).unwrap_err();
    assert!(
        matches!(&e, LoadError::NotANumber { line: 2, column, value } if column == "exp" && value == "lots"),
        "{e}"
    );
    assert_eq!(e.to_string(), "line 2, column `exp`: `lots` is not a number");
}

#[test]
fn bad_label_and_bad_date() {
    let e = err(&KAMEI.replace(",137,0", ",137,maybe"));
    assert_eq!(e, "line 3, column `bug`: `maybe` is not a label (expected 0, 1, true or false)");
    let e = err(&KAMEI.replace("1999/10/12 12:57", "yesterday"));
    assert!(e.starts_with("line 3, column `commitdate`: `yesterday` is not a date"), "{e}");
}

#[test]
fn short_row_is_malformed() {
    let e = err("ns,nd,nf,entropy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp,bug,date\n1,2,3\n");
    assert!(e.starts_with("line 2: malformed CSV"), "{e}");
}

# Reduces the TAP output of one validation program to one result line.
#
# Usage: awk -v rc=EXIT_STATUS -f tap.awk PROGRAM.tap
# Prints: STATUS<TAB>OK<TAB>NOT_OK<TAB>SKIPPED<TAB>FAILED_POINTS<TAB>DETAIL
#   STATUS is one of
#     pass     every test point ok (or: see the two suite conventions below), exit status 0
#     fail     a "not ok" test point (not marked TODO), or a diagnostic in a document
#              that has no test point (see below)
#     skip     test points ran but all were "# skip", or a plan "1..0 # skip"
#     error    no plan after TAP output (the program died, e.g. util.Fatal), plan and points
#              disagree, or a non-zero exit status without a failed point
#     timeout  killed by timeout(1) (exit status 124 or 137)
#   FAILED_POINTS is the comma-separated positions of the "not ok" points (counted across
#   all documents, so it equals the TAP number when there is one document), "-" if none.
#   DETAIL names the failing points, the skip reason or the error.
#
# Conventions of runtime-tools v0.9.0 that this follows:
# - A program may print several TAP documents ("TAP version 13" ... plan), one per
#   sub-test (linux_cgroups_cpus); plans add up.
# - The lifecycle programs (prestart, poststart, poststop and their _fail variants) never
#   emit a test point: on success they print only "1..0", on failure a YAML diagnostic
#   block and "1..0". So a document without test points fails when it carries a diagnostic
#   and passes when it does not.
# - The "_fail" programs run through util.RuntimeInsideValidate without TAP (process_
#   rlimits_fail, process_capabilities_fail): success is no output at all and exit status 0;
#   failure is util.Fatal (exit status 1).
# Indented lines are YAML diagnostics; other non-TAP output is ignored.

function directive(line,    d) {
	# "ok 3 - text # SKIP reason" / "not ok 4 # TODO": the directive follows a '#'.
	if (!match(line, /#[ \t]*[A-Za-z]+/))
		return ""
	d = tolower(substr(line, RSTART, RLENGTH))
	sub(/^#[ \t]*/, "", d)
	if (d ~ /^skip/)
		return "skip"
	if (d ~ /^todo/)
		return "todo"
	return ""
}

function add_detail(s) {
	if (length(detail) < 400)
		detail = detail (detail == "" ? "" : "; ") s
}

# end_doc checks the document that just ended for the "diagnostic without points" failure.
function end_doc() {
	if (in_doc && doc_planned && doc_plan == 0 && doc_points == 0 && doc_diag != "") {
		yaml_failures++
		add_detail("diagnostic: " doc_diag)
	}
	in_doc = 0
}

BEGIN {
	docs = 0; plans = 0; plan_total = 0; points = 0; ok = 0; notok = 0; skipped = 0
	yaml_failures = 0; failed = ""; detail = ""; skipreason = ""; output = 0
}

{ output = 1 }

/^TAP version/ {
	end_doc()
	docs++
	in_doc = 1; doc_planned = 0; doc_plan = 0; doc_points = 0; doc_diag = ""
	next
}

/^[ \t]/ {
	# Keep the first "error" of a YAML block: the suite's only failure report sometimes.
	if (doc_diag == "" && match($0, /"error": "/)) {
		doc_diag = substr($0, RSTART + RLENGTH)
		sub(/\\n.*/, "", doc_diag)
		sub(/",?[ \t]*$/, "", doc_diag)
		if (doc_diag == "")
			doc_diag = "(empty error)"
	}
	next
}

/^1\.\.[0-9]+/ {
	if (!in_doc) {
		docs++
		in_doc = 1; doc_points = 0; doc_diag = ""
	}
	doc_planned = 1
	doc_plan = substr($1, 4) + 0
	plans++
	plan_total += doc_plan
	if (directive($0) == "skip") {
		skipreason = $0
		sub(/^[^#]*#[ \t]*/, "", skipreason)
	}
	next
}

/^not ok/ {
	points++; doc_points++
	d = directive($0)
	if (d == "skip") {
		skipped++
	} else if (d == "todo") {
		ok++
	} else {
		notok++
		failed = failed (failed == "" ? "" : ",") points
		line = $0
		sub(/^not ok /, "", line)
		add_detail("not ok " line)
	}
	next
}

/^ok/ {
	points++; doc_points++
	if (directive($0) == "skip") {
		skipped++
		if (skipreason == "") {
			skipreason = $0
			sub(/^[^#]*#[ \t]*[Ss][Kk][Ii][Pp][ \t]*/, "", skipreason)
		}
	} else {
		ok++
	}
	next
}

END {
	end_doc()
	rc += 0
	if (rc == 124 || rc == 137) {
		status = "timeout"
		detail = "timed out" (detail == "" ? "" : "; " detail)
	} else if (!output && rc == 0) {
		status = "pass"
	} else if (plans < docs || plans == 0) {
		status = "error"
		detail = "no TAP plan, exit status " rc (detail == "" ? "" : "; " detail)
	} else if (notok > 0 || yaml_failures > 0) {
		status = "fail"
	} else if (points != plan_total) {
		status = "error"
		detail = "plans announce " plan_total " test points, " points " ran"
	} else if (rc != 0) {
		status = "error"
		detail = "exit status " rc
	} else if (points > 0 && ok == 0 || skipreason != "" && points == 0) {
		status = "skip"
		detail = skipreason
	} else {
		status = "pass"
	}
	gsub(/\t/, " ", detail)
	printf "%s\t%d\t%d\t%d\t%s\t%s\n", status, ok, notok, skipped, (failed == "" ? "-" : failed), detail
}

# shellcheck shell=bash
# lib.sh: run.sh's helpers (sourced before T and TAG are set): the runtimes' wrappers, the
# run's cgroups, the comparison of critest's reports and the checks that nothing is left.
# The checks and counters (ok, not_ok, expect_eq, CLIENTS_PASS/CLIENTS_FAIL), the runtime
# wrapper and the cleanup helpers come from the client tests' lib.sh.

# shellcheck source=../clients/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../clients/lib.sh"

CRI_CGROUPS=()

# cri_runtime NAME BIN: a private copy of BIN at $T/rt/NAME/bin/NAME, called by containerd's
# shim through the client tests' wrapper $T/rt/NAME/wrap/NAME (argv log and the runtime's log
# files in $T/rt/NAME).
cri_runtime() {
	local dir=$T/rt/$1
	mkdir -p "$dir/bin" "$dir/wrap" "$dir/logs" "$dir/root"
	cp "$2" "$dir/bin/$1"
	T=$dir clients_write_wrapper "$dir/wrap/$1" "$dir/bin/$1"
}

# cri_cgroup_dirs: the directory of this process's own cgroup in each hierarchy mounted
# below /sys/fs/cgroup (v1 controllers, cgroup2), one per line.
cri_cgroup_dirs() {
	awk '
	NR == FNR {
		i = index($0, ":"); rest = substr($0, i + 1); j = index(rest, ":")
		own[substr(rest, 1, j - 1)] = substr(rest, j + 1)
		next
	}
	{
		for (i = 7; i <= NF && $i != "-"; i++) ;
		fstype = $(i + 1); n = split($(i + 3), opts, ","); root = $4; mp = $5
		if (mp !~ /^\/sys\/fs\/cgroup/) next
		key = "-"
		if (fstype == "cgroup2") key = ""
		else if (fstype == "cgroup") {
			for (k in own) {
				if (k == "") continue
				m = split(k, want, ","); all = 1
				for (w = 1; w <= m; w++) {
					hit = 0
					for (o = 1; o <= n; o++) if (opts[o] == want[w]) hit = 1
					if (!hit) all = 0
				}
				if (all) key = k
			}
		}
		if (key == "-" || !(key in own) || (key in seen)) next
		seen[key] = 1
		path = own[key]
		if (root != "/" && index(path, root) == 1) path = substr(path, length(root) + 1)
		sub(/\/$/, "", path)
		print mp path
	}' /proc/self/cgroup /proc/self/mountinfo
}

# cri_cgroups_make: a cgroup $TAG below this process's own cgroup in every hierarchy, where
# containerd and everything it starts will run: containerd's CRI hands the runtime a
# relative cgroupsPath ("test.slice:cri-containerd:ID"), so the containers' cgroups are made
# below it too, and whatever is left there at the end was left by this run.
cri_cgroups_make() {
	local d
	for d in $(cri_cgroup_dirs); do
		mkdir "$d/$TAG" || return 1
		CRI_CGROUPS+=("$d/$TAG")
		if [ -f "$d/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d/$TAG/cpuset.cpus" && cat "$d/cpuset.mems" >"$d/$TAG/cpuset.mems" || return 1
		fi
	done
	[ ${#CRI_CGROUPS[@]} -gt 0 ] || { echo "cri: no cgroup hierarchy found" >&2; return 1; }
}

# cri_cgroups_join PID: moves PID into the $TAG cgroups.
cri_cgroups_join() {
	local d
	for d in "${CRI_CGROUPS[@]}"; do
		echo "$1" >"$d/cgroup.procs" || { echo "cri: cannot join $d" >&2; return 1; }
	done
}

# cri_specs HANDLER: "STATE<TAB>SPEC" for each spec of critest's JSON report for HANDLER.
cri_specs() {
	jq -r '.[].SpecReports[]? | select(.LeafNodeType == "It")
		| [.State, (((.ContainerHierarchyTexts // []) + [.LeafNodeText]) | join(" "))] | @tsv' \
		"$T/results/critest-$1.json" 2>/dev/null | sort -t "$(printf '\t')" -k2
}

# cri_failure HANDLER SPEC: critest's failure message and location for SPEC.
cri_failure() {
	jq -r --arg s "$2" '.[].SpecReports[]? | select(.LeafNodeType == "It")
		| select((((.ContainerHierarchyTexts // []) + [.LeafNodeText]) | join(" ")) == $s)
		| "\(.Failure.Location.FileName | split("/") | last):\(.Failure.Location.LineNumber): \(.Failure.Message)"' \
		"$T/results/critest-$1.json" 2>/dev/null | head -c 2000
}

# cri_compare: one check per spec that passes with runc: it must pass with husk. Specs that
# pass with neither are listed as notes; husk passing where runc fails is reported too.
cri_compare() {
	[ "${CRI_CRITEST:-1}" = 0 ] && return 0
	local husk runc
	husk=$(cri_specs husk)
	runc=$(cri_specs runc)
	if [ -z "$runc" ] || [ -z "$husk" ]; then
		not_ok "critest ran with both handlers" "reports: $(ls "$T/results")"
		return
	fi
	local oracle_passes
	oracle_passes=$(grep -c '^passed' <<<"$runc")
	if [ -z "${CRI_FOCUS:-}" ] && [ "$oracle_passes" -lt "$CRI_MIN_ORACLE_PASSES" ]; then
		not_ok "critest with runc passes at least $CRI_MIN_ORACLE_PASSES specs (the set-up works)" \
			"runc passed $oracle_passes; see $T/results/critest-runc.log"
	fi
	local state spec hstate
	while IFS=$'\t' read -r state spec; do
		hstate=$(awk -F'\t' -v s="$spec" '$2 == s {print $1}' <<<"$husk")
		if [ "$state" = passed ]; then
			if [ "$hstate" = passed ]; then
				ok "critest: $spec"
			else
				not_ok "critest: $spec" "passes with runc; with husk: ${hstate:-not run}" \
					"$(cri_failure husk "$spec")"
			fi
		elif [ "$state" != skipped ]; then
			if [ "$hstate" = passed ]; then
				echo "# critest: $spec: husk passes, runc: $state: $(cri_failure runc "$spec" | head -n 3)"
			else
				echo "# critest: $spec: fails with runc ($state) and husk (${hstate:-not run})"
			fi
		fi
	done <<<"$runc"
	echo "# critest: husk $(grep -c '^passed' <<<"$husk") passed, $(grep -c '^failed\|^panicked\|^timedout\|^interrupted' <<<"$husk") failed;" \
		"runc $oracle_passes passed, $(grep -c '^failed\|^panicked\|^timedout\|^interrupted' <<<"$runc") failed;" \
		"$(grep -c '^skipped' <<<"$runc") skipped"
}

# cri_count_tap: prints TAP-like lines from stdin and counts them into the totals.
cri_count_tap() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case $line in
		"ok "*) CLIENTS_PASS=$((CLIENTS_PASS + 1)) ;;
		"not ok "*) CLIENTS_FAIL=$((CLIENTS_FAIL + 1)) ;;
		esac
	done
}

# cri_cgroups_left: cgroups below the $TAG cgroups (a container's, a pod's) that still exist,
# and containers' cgroups (named by their 64-hex id) below the absolute pod parents of
# crictl.sh (/$TAG-kubepods/...: the runtimes make those parents, as runc does, and leave them
# as they leave any parent; kubelet would remove them).
cri_cgroups_left() {
	local d
	for d in "${CRI_CGROUPS[@]}"; do
		find "$d" -mindepth 1 -type d 2>/dev/null
	done
	for d in $(cri_pod_parents); do
		find "$d" -type d -regextype egrep -regex '.*/[0-9a-f]{64}$' 2>/dev/null
	done
}

# cri_pod_parents: the /$TAG-kubepods trees in the cgroup hierarchies.
cri_pod_parents() {
	local mp
	for mp in $(awk '($3 == "cgroup" || $3 == "cgroup2") && $2 ~ /^\/sys\/fs\/cgroup/ {print $2}' /proc/self/mounts | sort -u); do
		[ -d "$mp/$TAG-kubepods" ] && echo "$mp/$TAG-kubepods"
	done
}

# cri_check_nothing_left: after the namespaces are gone: no process was left for the
# subreaper to kill, no cgroup below $TAG, no mount of $T, no containerd/CNI path on the host,
# no bridge on the host.
cri_check_nothing_left() {
	expect_eq "no process of the run was left when inner.sh ended" "" \
		"$(cat "$T"/inner-*.log | grep '^subreaper: killed leftover process')"
	expect_eq "no process of the run is left on the host" "" "$(cri_pids)"
	expect_eq "no cgroup is left below the run's cgroup $TAG" "" "$(cri_cgroups_left)"
	expect_eq "no mount under $T is left" "" "$(leftover_mounts)"
	local h
	for h in husk runc; do
		# (husk keeps a .seccomp-cache there: not a container)
		expect_eq "no container is left in $h's root" "" "$(ls "$T/rt/$h/root/k8s.io" 2>/dev/null)"
	done
	local extra=() p
	for p in "${CLIENTS_HOST_EXTRA[@]}"; do
		[ -e "$p" ] && extra+=("$p")
	done
	expect_eq "no containerd, CNI or registry path outside $T was made" "" "${extra[*]}"
	expect_eq "no huskcri0 bridge on the host" "" "$(ip -br link show huskcri0 2>/dev/null)"
}

# cri_pids: processes of this run still alive on the host: in a $TAG cgroup, or with $T in
# their command line (not this shell's ancestors or helpers).
cri_pids() {
	local d pid
	{
		for d in "${CRI_CGROUPS[@]}" $(cri_pod_parents); do
			find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
		done
		for pid in /proc/[0-9]*; do
			pid=${pid#/proc/}
			{ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -Fq "$T/" && echo "$pid"
		done
	} | sort -un | while read -r pid; do
		[ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
		[ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] && echo "$pid"
	done
}

# cri_cleanup: the EXIT trap: kills what is left, unmounts, removes the cgroups, the host paths
# the run made and $T (unless CRI_KEEP=1).
cri_cleanup() {
	local rc=$? pid m d
	trap - EXIT INT TERM HUP
	[ -n "${T:-}" ] && [ -d "$T" ] || exit "$rc"
	for pid in $(cri_pids); do
		echo "# cleanup: killing leftover pid $pid: $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-200)" >&2
		kill -KILL "$pid" 2>/dev/null
	done
	for m in $(leftover_mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "# cleanup: cannot unmount $m" >&2
	done
	for d in "${CRI_CGROUPS[@]}" $(cri_pod_parents); do
		remove_cgroup "$d"
	done
	for m in "${CLIENTS_HOST_EXTRA[@]}"; do
		[ -e "$m" ] && rm -rf "$m"
	done
	if [ -n "$(leftover_mounts)" ]; then
		echo "# cleanup: mounts remain under $T; not removing it" >&2
	elif [ "${CRI_KEEP:-}" = 1 ]; then
		echo "# cleanup: CRI_KEEP=1: keeping $T" >&2
	else
		chmod -R u+w "$T" 2>/dev/null
		rm -rf --one-file-system "$T"
	fi
	exit "$rc"
}

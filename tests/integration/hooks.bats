#!/usr/bin/env bats
# Hooks: all six kinds, the state on stdin, args, env, timeout, and failures.

load helpers

# hook_json prints a hook that records its stdin, env and order into DIR:
# hook_json KIND DIR [extra jq fields]
hook_json() {
	local kind=$1 dir=$2
	# shellcheck disable=SC2016
	jq -cn --arg kind "$kind" --arg dir "$dir" '{
		path: "/bin/sh",
		args: ["sh", "-c", "cat >\"$2/$1.json\"; env >\"$2/$1.env\"; echo \"$1\" >>\"$2/order\"", "sh", $kind, $dir],
		env: ["HOOK_KIND=\($kind)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
	}'
}

# hook_order prints the kinds of the hooks that ran, in order, on one line.
hook_order() {
	tr '\n' ' ' <"$OUT/order"
}

# setup_all_hooks installs a recording hook of each kind. startContainer runs
# in the container, so it writes to /out, the same directory bind-mounted.
setup_all_hooks() {
	OUT="$TESTDIR/out"
	mkdir -p "$OUT"
	update_config ".mounts += [{source: \"$OUT\", destination: \"/out\", type: \"bind\", options: [\"rbind\"]}]
		| .hooks = {
			prestart: [$(hook_json prestart "$OUT")],
			createRuntime: [$(hook_json createRuntime "$OUT")],
			createContainer: [$(hook_json createContainer "$OUT")],
			startContainer: [$(hook_json startContainer /out)],
			poststart: [$(hook_json poststart "$OUT")],
			poststop: [$(hook_json poststop "$OUT")]
		}"
}

@test "all six hooks run in order" {
	skip_runc '*' "runc runs the poststart hooks in create, before startContainer and with status created (runtime-spec: after the user process started)"
	setup_all_hooks
	set_args true
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	[ "$(hook_order)" = "prestart createRuntime createContainer " ] || fail "order: $(hook_order)"
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	[ "$(hook_order)" = "prestart createRuntime createContainer startContainer poststart " ] || fail "order: $(hook_order)"
	run -0 husk delete "$id"
	[ "$(hook_order)" = "prestart createRuntime createContainer startContainer poststart poststop " ] || fail "order: $(hook_order)"
	[ "$(jq -r .status "$OUT/poststart.json")" = running ]
	assert_nothing_left
}

@test "every hook gets the state on stdin" {
	setup_all_hooks
	set_args true
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	local pid
	pid=$(container_pid "$id")
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	run -0 husk delete "$id"
	# Each ran once.
	[ "$(sort "$OUT/order" | tr '\n' ' ')" = "createContainer createRuntime poststart poststop prestart startContainer " ] ||
		fail "ran: $(hook_order)"

	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		jq -e --arg id "$id" --arg b "$BUNDLE" \
			'.id == $id and .bundle == $b and (.ociVersion | length > 0) and (.status | length > 0)' \
			"$OUT/$k.json" || fail "$k: bad state $(cat "$OUT/$k.json")"
	done
	for k in prestart createRuntime poststart; do
		[ "$(jq -r .pid "$OUT/$k.json")" = "$pid" ] || fail "$k: pid is not the init's"
	done
	# Hooks run inside the container's pid namespace may see the pid as
	# there (runc passes 1) or as on the host.
	for k in createContainer startContainer; do
		[[ "$(jq -r .pid "$OUT/$k.json")" =~ ^(1|$pid)$ ]] || fail "$k: pid is not the init's"
	done
	[ "$(jq -r .status "$OUT/prestart.json")" = creating ]
	[ "$(jq -r .status "$OUT/createRuntime.json")" = creating ]
	[ "$(jq -r .status "$OUT/createContainer.json")" = creating ]
	[ "$(jq -r .status "$OUT/startContainer.json")" = created ]
	[ "$(jq -r .status "$OUT/poststop.json")" = stopped ]
	assert_nothing_left
}

@test "hooks get their env and args" {
	mkdir -p "$TESTDIR/out"
	# shellcheck disable=SC2016
	update_config '.hooks.createRuntime = [{
		path: "/bin/sh",
		args: ["sh", "-c", "echo \"$0|$1|$2|$MYVAR|$PATH\" >'"$TESTDIR/out/args"'", "zero", "one", "two words"],
		env: ["MYVAR=my value", "PATH=/hookpath"]}]'
	set_args true
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$(cat "$TESTDIR/out/args")" = "zero|one|two words|my value|/hookpath" ]
}

@test "a startContainer hook without env gets the process's environment, HOME included" {
	# It runs in the container; what it records lands in the rootfs.
	update_config '.root.readonly = false | .process.user = {uid: 1000, gid: 1000}
		| .process.env = ["PATH=/bin:/usr/bin", "ONE=two", "DUP=a", "HOME=", "DUP=b"]
		| .hooks.startContainer = [
			{path: "/bin/sh", args: ["sh", "-c", "/usr/bin/env >/tmp/no-env"]},
			{path: "/bin/sh", args: ["sh", "-c", "/usr/bin/env >/tmp/own-env"], env: ["OWN=1"]}]'
	set_args true
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	# (sh adds PWD and SHLVL, and a PATH of its own where there is none.)
	local got
	got=$(grep -Ev '^(PWD|SHLVL)=' "$BUNDLE/rootfs/tmp/no-env" | sort | tr '\n' ' ')
	[ "$got" = "DUP=b HOME=/tmp ONE=two PATH=/bin:/usr/bin " ] || fail "hook without env: $got"
	# A hook's own env is all it gets.
	got=$(grep -Ev '^(PWD|SHLVL|PATH)=' "$BUNDLE/rootfs/tmp/own-env" | sort | tr '\n' ' ')
	[ "$got" = "OWN=1 " ] || fail "hook with env: $got"
}

@test "createContainer hooks run in the container's rootfs: relative paths resolve there" {
	OUT="$TESTDIR/out"
	mkdir -p "$OUT"
	echo from-rootfs >"$BUNDLE/rootfs/etc/marker"
	update_config '.hooks.createContainer = [{path: "/bin/sh",
		args: ["sh", "-c", "pwd >'"$OUT"'/pwd; cat etc/marker >'"$OUT"'/marker"]}]'
	set_args true
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$(cat "$OUT/pwd")" = "$BUNDLE/rootfs" ]
	[ "$(cat "$OUT/marker")" = from-rootfs ]
}

@test "the hooks on the host work in the bundle; poststop in the directory of whoever deletes" {
	OUT="$TESTDIR/out"
	mkdir -p "$OUT" "$TESTDIR/elsewhere"
	local k hooks=""
	for k in prestart createRuntime poststart poststop; do
		hooks+="${hooks:+, }$k: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"pwd >'$OUT'/$k\"]}]"
	done
	update_config ".hooks = {$hooks}"
	set_args true
	local id
	id=$(new_id)
	cd /
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	cd "$TESTDIR/elsewhere"
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	run -0 husk delete "$id"
	for k in prestart createRuntime poststart; do
		[ "$(cat "$OUT/$k")" = "$BUNDLE" ] || fail "$k ran in $(cat "$OUT/$k"), not the bundle"
	done
	[ "$(cat "$OUT/poststop")" = "$TESTDIR/elsewhere" ] || fail "poststop of delete ran in $(cat "$OUT/poststop")"
	# run deletes the container itself: its poststop hooks work in the bundle too.
	rm "$OUT"/*
	cd /
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	for k in prestart createRuntime poststart poststop; do
		[ "$(cat "$OUT/$k")" = "$BUNDLE" ] || fail "run: $k ran in $(cat "$OUT/$k"), not the bundle"
	done
	assert_nothing_left
}

@test "startContainer runs in the container, poststart and prestart on the host" {
	setup_all_hooks
	set_args true
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	# busybox's sh in the container sets no PWD from the host and sees the
	# container's hostname; the host hooks see the host's.
	update_config '.hooks = {
		startContainer: [{path: "/bin/sh", args: ["sh", "-c", "hostname >/out/start-host"]}],
		poststart: [{path: "/bin/sh", args: ["sh", "-c", "hostname >'"$OUT"'/poststart-host"]}]}'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$(cat "$OUT/start-host")" = husk ]
	[ "$(cat "$OUT/poststart-host")" = "$(hostname)" ]
}

@test "a hook that outlives its timeout fails create and leaves nothing" {
	update_config '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]'
	set_args true
	local start=$SECONDS
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	[ $((SECONDS - start)) -lt 10 ] || fail "took $((SECONDS - start))s: $output"
	[[ "$output" == *time* ]]
	assert_nothing_left
}

@test "a failing prestart hook aborts create and leaves nothing" {
	update_config '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]'
	set_args sh -c 'echo should-not-run'
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" != *should-not-run* ]]
	assert_nothing_left
}

@test "a failing createRuntime hook aborts create and leaves nothing" {
	update_config '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "exit 1"]}]'
	set_args true
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	assert_nothing_left
}

@test "a failing createContainer hook aborts create and leaves nothing" {
	update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "exit 1"]}]'
	set_args true
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	assert_nothing_left
}

@test "a failing hook stops the hooks after it" {
	mkdir -p "$TESTDIR/out"
	update_config '.hooks.createRuntime = [
		{path: "/bin/sh", args: ["sh", "-c", "exit 1"]},
		{path: "/bin/sh", args: ["sh", "-c", "touch '"$TESTDIR/out/second"'"]}]'
	set_args true
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	[ ! -e "$TESTDIR/out/second" ]
	assert_nothing_left
}

@test "a missing hook binary aborts create" {
	update_config '.hooks.createRuntime = [{path: "/nonexistent/hook"}]'
	set_args true
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == */nonexistent/hook* ]]
	assert_nothing_left
}

@test "poststop runs on delete of a created container" {
	mkdir -p "$TESTDIR/out"
	update_config '.hooks.poststop = [{path: "/bin/sh", args: ["sh", "-c", "cat >'"$TESTDIR/out/poststop.json"'"]}]'
	set_args true
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	run -0 husk delete -f "$id"
	jq -e --arg id "$id" '.id == $id' "$TESTDIR/out/poststop.json"
}

@test "a failing poststop hook is a warning: delete still removes everything" {
	update_config '.hooks.poststop = [{path: "/bin/sh", args: ["sh", "-c", "exit 1"]}]'
	set_args true
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	run husk delete "$id"
	# runtime-spec: a failing poststop hook is a warning and the lifecycle continues. husk
	# deletes with exit 0; runc removes everything too but exits 1.
	if [ "$HUSK_NAME" = husk ]; then
		[ "$status" -eq 0 ] || fail "delete: exit $status: $output"
		[[ "$output" == *"poststop hook"* ]] || fail "the failing hook is not named: $output"
	fi
	[[ "$output" == *"hook"*"exit status 1"* ]] || fail "the failing hook is not reported: $output"
	run -1 husk state "$id"
	assert_nothing_left
}

@test "a failing poststart hook is a warning: the container runs" {
	# runtime-spec: the runtime logs a warning and the lifecycle continues.
	husk_only "runc fails the start when a poststart hook fails (runtime-spec: a warning)"
	update_config '.hooks.poststart = [{path: "/bin/sh", args: ["sh", "-c", "exit 1"]}]'
	set_args sh -c 'echo ran'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *ran* ]]
	[[ "$output" == *poststart* ]]
	assert_nothing_left
}

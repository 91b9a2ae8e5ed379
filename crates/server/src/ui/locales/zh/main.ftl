language-name = 中文
skip-to-content = 跳到正文
nav-label = 主菜单
nav-dashboard = 概览
nav-intel = 情报
nav-requests = 请求
nav-sessions = 我的会话
pref-language = 语言
pref-time-zone = 时区
pref-apply = 应用
sign-out = 退出
yes = 是
no = 否

error-back = 返回概览
error-too-large = 表单过大。
error-csrf = 此表单已过期或并非来自本站。请刷新页面后重试。
error-forbidden = 您无权执行此操作。
error-not-found = 未找到。
error-throttled = 尝试次数过多。请等待一分钟后重试。
error-invalid = 请求无效。
error-internal = 服务器出错，事件已记录。
error-busy = 登录人数过多，请稍后再试。
error-language = 不支持此语言。
error-time-zone = 未知时区：请使用 Asia/Shanghai 或 UTC 这样的名称。

signin-title = 登录
signin-name = 用户名
signin-password = 密码
signin-submit = 登录
signin-failed = 用户名或密码错误。
signin-throttled = 失败次数过多。请等待一分钟后再试。

sessions-title = 我的会话
sessions-count = { $count ->
   *[other] 您有 { $count } 个打开的会话。
}
sessions-since = 登录时间
sessions-browser = 浏览器
sessions-action = 操作
sessions-current = 当前会话
sessions-revoke = 结束此会话

dashboard-title = 概览
dashboard-waiting = 等待我方处理的请求
dashboard-waiting-count = { $count ->
    [0] 没有等待我方处理的请求。
   *[other] 有 { $count } 个请求等待我方处理。
}
dashboard-proposals = 正在投票的提案
dashboard-proposals-count = { $count ->
    [0] 目前没有正在投票的提案。
   *[other] 有 { $count } 项提案正在投票。
}
dashboard-recent = 本周新情报
dashboard-recent-none = 本周没有您可阅读的新内容。
dashboard-log = 透明日志
dashboard-log-none = 日志尚无检查点。
dashboard-cosignatures = { $count ->
    [0] 尚无对等节点联署此检查点。
   *[other] 已由 { $count } 个对等节点联署。
}

intel-title = 情报
intel-none = 您无权阅读任何集合。
intel-filter-type = 对象类型
intel-filter = 筛选
intel-empty = 没有可显示的对象。
intel-objects = 对象
intel-next = 下一页

object-type = 类型
object-name = 名称
object-id = 标识符
object-markings = 标记
object-version = 版本
object-back = 返回集合
object-no-tlp = 无 TLP 标记
object-versions = { $count ->
   *[other] { $count } 个版本
}
object-json = STIX JSON
object-who-else = 还有谁见过
object-who-else-no-values = 此对象没有可查询的可观察值。
object-who-else-suppressed = 在警告列表中，不做关联：
object-who-else-count = { $count ->
    [0] 您可读取的其他对象中没有包含此值的。
   *[other] 您可读取的其他对象中有 { $count } 个包含此值
}
object-who-else-members = { $count ->
   *[other] （来自 { $count } 个成员）。
}

tlp-clear = TLP:CLEAR：披露不受限制。
tlp-green = TLP:GREEN：有限披露，限于社区内部。
tlp-amber = TLP:AMBER：有限披露，限于接收方组织及其客户。
tlp-amber-strict = TLP:AMBER+STRICT：有限披露，仅限接收方组织。
tlp-red = TLP:RED：仅限指定的个人接收者知悉。
handling-h0 = 仅用于执法目的。
handling-h1 = 未经提供方同意，不得用于司法程序。
handling-h2 = 未经提供方同意，不得进一步传播。
handling-h3 = 其他限制，见文字说明。

requests-title = 合作请求
requests-new = 起草新请求
requests-inbox = 收件箱：向我方提出的请求
requests-outbox = 发件箱：我方提出的请求
requests-count = { $count ->
    [0] 没有请求。
   *[other] { $count } 个请求。
}

request-id = 标识符
request-kind = 类别
request-partner = 合作方
request-requester = 请求方成员
request-requested = 被请求方成员
request-state = 状态
request-due = 截止时间（您的时区）
request-due-partner = 截止时间（合作方时区）
request-emergency = 紧急
request-overdue = 已逾期
request-acts = 可执行的操作
request-reason = 理由
request-until = 保全至（RFC 3339）
request-link = 后续请求
request-conditions = 条件
request-note = 备注
request-timeline = 已签名的历史
request-at = 时间
request-by = 操作人
request-signature = 签名
request-document = 请求文件

draft-title = 新请求
draft-choose = 选择
draft-to = 被请求方成员（identity--…）
draft-emergency = 紧急情况（对生命或安全的紧迫威胁）
draft-emergency-justification = 紧急情况的理由
draft-source = 依据
draft-save = 保存为草稿

kind-assistance = 协助（24/7 网络）
kind-preservation = 快速保全
kind-disclosure = 快速披露流量数据
kind-production = 提供令
kind-mla = 司法协助

field-authority-name = 请求机关
field-authority-contact = 机关联系方式
field-authority-time-zone = 机关所在时区
field-legal-basis-instrument = 法律文书
field-summary = 事实摘要
field-offence = 犯罪
field-details-incident = 事件
field-details-help-sought = 所需帮助
field-details-data = 需保全的数据
field-details-relation-to-offence = 数据与犯罪的关联
field-details-custodian = 数据保管人
field-details-necessity = 保全的必要性
field-details-mla-to-follow = 将随后提出司法协助请求
field-details-preservation = 此前的保全
field-details-communication = 相关通信
field-details-categories = 数据类别（以逗号分隔）
field-details-time-range-from = 自
field-details-time-range-to = 至
field-details-time-range-time-zone = 时间段所在时区
field-details-addressee = 接收命令的服务提供商
field-details-purpose = 请求目的
field-details-assistance-sought = 所需协助
field-details-laws = 适用法律
field-details-proceedings = 相关程序

state-draft = 草稿
state-submitted = 已提交
state-delivered = 已送达
state-acknowledged = 已确认收到
state-under-review = 审查中
state-info-requested = 已要求补充信息
state-accepted = 已接受
state-accepted-with-conditions = 有条件接受
state-postponed = 已推迟
state-refused = 已拒绝
state-in-execution = 执行中
state-partially-executed = 部分执行
state-executed = 已执行
state-closed = 已结案
state-preserved = 数据已保全
state-extended = 已延长
state-linked = 已关联
state-lapsed = 已失效
state-released = 数据已解除保全
state-withdrawn = 已撤回

act-submit = 签名并提交
act-deliver = 已送达
act-retrieve = 已打开
act-acknowledge = 确认收到
act-review = 开始审查
act-request-info = 要求补充信息
act-supply-info = 提供信息
act-accept = 接受
act-accept-with-conditions = 有条件接受
act-accept-conditions = 接受条件
act-postpone = 推迟
act-resume = 恢复
act-refuse = 拒绝
act-execute = 开始执行
act-execute-partially = 部分交付
act-complete = 完成
act-close = 结案
act-preserve = 确认保全
act-extend = 延长保全
act-link = 关联后续请求
act-lapse = 记录失效
act-release = 解除数据保全
act-withdraw = 撤回

reason-essential-interests = 根本利益（主权、安全、公共秩序）
reason-political-offence = 政治犯罪
reason-dual-criminality = 不符合双重犯罪原则
reason-immunity = 豁免或特权
reason-fundamental-rights = 基本权利
reason-ne-bis-in-idem = 一事不再理
reason-incomplete = 请求不完整或明显有误
reason-data-not-held = 未持有该数据
reason-impossible = 无法执行
reason-other = 其他理由（见备注）

nav-governance = 治理
nav-members = 成员
governance-title = 提案
governance-proposals = 提案（最新的在前）
governance-count = { $count ->
    [0] 尚未提交任何提案。
   *[other] 共 { $count } 项提案。
}
governance-back = 返回提案列表
norms-title = 规范与规则
norms-registry = 规范登记册
norms-count = { $count ->
    [0] 尚未通过任何规范。
   *[other] 共 { $count } 个规范版本。
}
norm-version = 第 { $count } 版
norm-repealed = 已废止
norm-in-force = 有效
norm-decided = 决定依据
norm-founded = 在创立时由创始文件通过
norm-id = 规范
rules-title = 现行规则
rules-voting-delay = 投票开始前的间隔
rules-voting-period = 投票期
rules-execution-window = 执行期限
rules-quorum = 法定人数（活跃成员比例）
rules-abstentions = 弃权计入法定人数
rules-kinds = 各类提案的要求
rules-sponsors = 所需附议方
duration-days = { $count } 天
duration-hours = { $count } 小时
duration-minutes = { $count } 分钟
duration-seconds = { $count } 秒
proposal-kind = 类型
proposal-state = 状态
proposal-proposer = 提案方
proposal-window = 投票时段
proposal-tally = 计票
proposal-id = 标识符
proposal-sponsors = 附议方
proposal-effect = 提案内容
proposal-member = 成员
proposal-timeline = 时间线
proposal-tabled = 提交时间
proposal-voting-starts = 投票开始
proposal-deadline = 投票截止
proposal-execution-ends = 执行期限结束
proposal-vote = 代表本成员投票
proposal-vote-legend = 本成员的选票（截止前可用新选票替换）
proposal-vote-submit = 签署并投出选票
proposal-cancel = 撤回此提案
proposal-cancel-explain = 本成员提出了此提案且投票尚未开始：撤回将被签署并发送给每个成员，任何选票都不会计入。
proposal-cancel-submit = 签署并发送撤回
proposal-result = 结果
proposal-result-so-far = 目前结果（截止前为临时结果）
proposal-quorum = 法定人数
proposal-majority = 多数
proposal-met = 已达到
proposal-not-met = 未达到
proposal-digest = 结果摘要
proposal-not-executed = 提案已通过，但其效果未能在本节点生效（见节点日志）。
proposal-ballots = 已计选票
proposal-ballots-count = { $count ->
    [0] 尚无计入的选票。
   *[other] 已计入 { $count } 张选票。
}
proposal-choice = 投票
proposal-refused = 被拒选票
proposal-reason = 原因
proposal-kind-admit-member = 接纳成员
proposal-does-admit-member = 以其节点密钥和国家接纳新成员。
proposal-kind-suspend-member = 暂停成员资格
proposal-does-suspend-member = 暂停一名活跃成员。
proposal-kind-reinstate-member = 恢复成员资格
proposal-does-reinstate-member = 恢复一名被暂停的成员。
proposal-kind-expel-member = 开除成员
proposal-does-expel-member = 开除一名成员。
proposal-kind-adopt-norm = 通过规范
proposal-does-adopt-norm = 以下列文本通过一项规范。
proposal-kind-amend-norm = 修订规范
proposal-does-amend-norm = 以下列文本取代已通过规范的文本。
proposal-kind-repeal-norm = 废止规范
proposal-does-repeal-norm = 废止一项已通过的规范。
proposal-kind-change-rules = 修改规则
proposal-does-change-rules = 使下列规则生效。
proposal-kind-joint-statement = 联合声明
proposal-does-joint-statement = 通过一项联合声明，由投赞成票的成员签署。
proposal-kind-revoke-member-key = 撤销成员的密钥
proposal-does-revoke-member-key = 撤销成员自下方时间起使用过的所有密钥（包括抢先轮换的窃取者的密钥），并固定该成员通过其他渠道提供的新密钥。相关成员与其他成员一样投票，仅凭其自身的一票永远不能通过。
proposal-revoked-from = 密钥撤销起始时间
proposal-encryption-key = 加密密钥
proposal-state-pending = 待定
proposal-state-active = 投票中
proposal-state-canceled = 已撤销
proposal-state-defeated = 未通过
proposal-state-succeeded = 已通过
proposal-state-executed = 已执行
proposal-state-expired = 已过期
choice-yes = 赞成
choice-no = 反对
choice-abstain = 弃权
decision-succeeded = 通过
decision-defeated = 未通过
decision-so-far-succeeded = 目前通过
decision-so-far-defeated = 目前未通过
refusal-malformed = 无法读取的选票
refusal-other-proposal = 针对其他提案的选票
refusal-unknown-member = 提交时非成员
refusal-suspended = 提交时已被暂停
refusal-bad-signature = 签名验证失败
refusal-early = 投票开始前投出
refusal-late = 截止后投出
refusal-replayed = 重复收到的同一选票
refusal-superseded = 已被之后的选票取代
refusal-equivocation = 同一成员的矛盾选票
members-title = 成员与协议
members-directory = 成员名录
members-count = { $count ->
    [0] 尚无登记的成员。
   *[other] 共 { $count } 个成员。
}
member-name = 名称
member-country = 国家
member-roles = 职能
member-status = 状态
member-endpoint = 节点地址
member-fingerprint = 密钥指纹
member-key = 节点密钥
member-local = 本节点
member-role-cert = 国家 CERT/CSIRT
member-role-police = 警方网络部门
member-role-judicial = 司法机关
member-role-central-authority = 中央机关
member-status-active = 活跃
member-status-suspended = 已暂停
agreements-title = 共享协议
agreements-count = { $count ->
    [0] 尚无协议。
   *[other] 共 { $count } 项协议。
}
agreement-id = 标识符
agreement-parties = 缔约方
agreement-missing = 待签署方
agreement-types = 对象类型
agreement-max-tlp = 最严格的 TLP
agreement-handling = 遵守的处理代码
agreement-purposes = 用途
agreement-valid = 有效期
agreement-no-end = 无期限
agreement-status-proposed = 已提议
agreement-status-active = 生效
agreement-status-suspended = 已暂停
agreement-status-terminated = 已终止

propose-title = 提交提案
propose-norm = 规范标识符
propose-norm-hint = 最多 64 个字母、数字、“.”、“_”或“-”，例如 gge-2015-13f；修订或废止时，填写一项现行规范的标识符。
propose-texts = 提案文本
propose-texts-hint = 至少用一种语言撰写，每种语言最多 { $count } 个字符；其他语言留空即可。
propose-no-member = 目前没有成员可以成为此类提案的对象。
propose-record = 成员记录文件
propose-record-hint = 粘贴候选成员节点生成的文件（comity member show-local --out 文件）：将用文件所带的密钥验证其签名，请通过其他渠道与候选成员核实该密钥。
propose-rules = 新规则（JSON）
propose-rules-hint = 现行规则，请修改为所提议的规则：时长以秒计，比例以分数表示，例如 2/3。
propose-revoked-from-hint = 泄露开始的时间，采用 RFC 3339 格式，例如 2026-12-01T00:00:00Z：此后该成员密钥签署的任何内容均无效。
propose-keys-hint = 新的身份密钥和加密密钥，按该成员节点打印的内容填写（comity key prepare）；请通过其他渠道与该成员确认。
propose-sponsors-needed = { $count ->
    [0] 此类提案无需附议方。
   *[other] 除本成员外，此类提案需要 { $count } 个附议方。
}
propose-no-sponsor = 没有其他在册成员可以附议。
propose-too-few-sponsors = 可附议的成员少于现行规则的要求：节点将拒绝此提案。
propose-explain = 提交时将以本成员的名义签署提案，并发送给每个在册成员。投票开始前可以撤回。
propose-submit = 签署并提交提案
error-propose-text-long = 每种语言的文本最多 { $count } 个字符。
error-propose-text-empty = 请至少用一种语言撰写文本。
error-propose-norm-empty = 请填写规范标识符。
error-propose-member-empty = 请选择提案涉及的成员。
error-propose-member-unknown = 该成员不在成员名录中。
error-propose-sponsor-unknown = 有附议方不在成员名录中。
error-propose-record-empty = 请粘贴候选成员的成员记录文件。
error-propose-record = 成员记录文件被拒绝。
error-propose-rules-empty = 请填写要生效的规则。
error-propose-rules = 无法读取这些规则。
error-propose-revoked-from = 请按 RFC 3339 格式填写时间，例如 2026-12-01T00:00:00Z。
error-propose-key-empty = 请填写该成员的新身份密钥和加密密钥。
error-propose-key = 某个密钥被拒绝。
error-propose-refused = 节点拒绝提交此提案。

nav-tokens = API 令牌
nav-admin = 管理
tokens-title = API 令牌
tokens-explain = API 令牌让程序（TAXII 客户端、传感器、脚本）以您的名义、按您的角色通过本节点的 API 操作，直到令牌过期或被撤销。
tokens-mine = 您的令牌
tokens-all = 本节点的全部令牌
tokens-count = { $count ->
    [0] 没有令牌。
   *[other] 共 { $count } 个令牌。
}
tokens-back = 返回 API 令牌
token-label = 标签
token-id = 标识符
token-holder = 持有者
token-for-member = 对等成员
token-created = 创建时间
token-expires = 过期时间
token-never = 永不
token-state = 状态
token-action = 操作
token-state-active = 有效
token-state-expired = 已过期
token-state-revoked = 已撤销
token-revoke = 撤销
token-new = 新建令牌
token-label-hint = 用途，例如“MISP 同步”：最多 { $count } 个字符。
token-days = 有效天数
token-days-hint = 1 至 { $count } 天。
token-member = 签发给对等成员
token-member-hint = 对等成员的令牌只能读取为该成员建立的策略视图。
token-member-none = 否：给我自己的令牌
token-create-explain = 令牌只在下一页显示一次；节点只保存其哈希值。
token-create = 创建令牌
token-created-title = 令牌已创建
token-secret = 令牌
token-use = 程序在请求头中发送它：
secret-once = 请立即复制：它只显示这一次，以后不会再显示，节点以后也无法向任何人显示。请像保管密码一样保管它。
error-token-label = 请填写 1 至 { $count } 个字符的标签，不得包含控制字符。
error-token-days = 请填写 1 至 { $count } 之间的整数天数。
error-token-member = 该成员不能获得令牌。
error-token-revoke = 无法撤销此令牌。

admin-title = 管理
admin-users = 用户
admin-users-count = { $count ->
    [0] 没有用户。
   *[other] 共 { $count } 个用户。
}
admin-user = 用户名
admin-role = 角色
admin-change-role = 更改角色
admin-new-role = 新角色：
admin-set-role = 更改
admin-you = 您
role-viewer = 查看者（只读）
role-analyst = 分析员（读写情报）
role-liaison = 联络官（合作请求）
role-admin = 管理员
admin-new-user = 添加用户
admin-name-hint = 最多 { $count } 个字符，不得包含“:”或控制字符。
admin-password = 密码
admin-password-again = 再次输入密码
admin-password-hint = 输入两次至少 { $count } 个字符的密码；或将两栏都留空，由系统生成密码并显示一次。
admin-new-user-explain = 添加用户和更改角色都会记入节点的透明日志（记录用户名和角色，从不记录密码）。
admin-add-user = 添加该用户
admin-user-added = 用户已添加
admin-password-generated = 生成的密码
admin-password-typed = 该用户使用您输入的密码登录。
admin-back = 返回管理
admin-sessions = 所有用户的打开会话
admin-sessions-count = { $count ->
    [0] 没有打开的会话。
   *[other] 共 { $count } 个打开的会话。
}
error-admin-name = 此用户名不被接受。
error-admin-exists = 已有同名用户。
error-admin-no-user = 没有此用户。
error-admin-role = 请从给出的角色中选择一个。
error-admin-password-mismatch = 两次输入的密码不一致。
error-admin-password-short = 密码至少需要 { $count } 个字符。
error-admin-no-session = 此会话已经结束。

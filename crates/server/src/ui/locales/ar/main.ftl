language-name = العربية
skip-to-content = انتقل إلى المحتوى
nav-label = القائمة الرئيسية
nav-dashboard = لوحة المتابعة
nav-intel = المعلومات الاستخبارية
nav-requests = الطلبات
nav-sessions = جلساتي
pref-language = اللغة
pref-time-zone = المنطقة الزمنية
pref-apply = تطبيق
sign-out = تسجيل الخروج
yes = نعم
no = لا

error-back = العودة إلى لوحة المتابعة
error-too-large = النموذج كبير جدًا.
error-csrf = انتهت صلاحية هذا النموذج أو لم يصدر عن هذا الموقع. أعد تحميل الصفحة وحاول مرة أخرى.
error-forbidden = غير مسموح لك بالقيام بذلك.
error-not-found = غير موجود.
error-throttled = محاولات كثيرة جدًا. انتظر دقيقة ثم حاول مرة أخرى.
error-invalid = الطلب غير صالح.
error-internal = حدث خطأ في الخادم، وقد سُجّلت الواقعة.
error-busy = عدد المستخدمين المتصلين كبير جدًا. حاول لاحقًا.
error-language = هذه اللغة غير متاحة.
error-time-zone = منطقة زمنية غير معروفة: استخدم اسمًا مثل Asia/Riyadh أو UTC.

signin-title = تسجيل الدخول
signin-name = اسم المستخدم
signin-password = كلمة المرور
signin-submit = دخول
signin-failed = اسم المستخدم أو كلمة المرور غير صحيحة.
signin-throttled = محاولات فاشلة كثيرة جدًا. انتظر دقيقة قبل المحاولة مجددًا.

sessions-title = جلساتي
sessions-count = { $count ->
    [zero] ليست لديك أي جلسة مفتوحة.
    [one] لديك جلسة مفتوحة واحدة.
    [two] لديك جلستان مفتوحتان.
    [few] لديك { $count } جلسات مفتوحة.
    [many] لديك { $count } جلسة مفتوحة.
   *[other] لديك { $count } جلسة مفتوحة.
}
sessions-since = وقت الدخول
sessions-browser = المتصفح
sessions-action = إجراء
sessions-current = هذه الجلسة
sessions-revoke = إنهاء هذه الجلسة

dashboard-title = لوحة المتابعة
dashboard-waiting = طلبات بانتظار إجراء منا
dashboard-waiting-count = { $count ->
    [0] لا يوجد طلب بانتظار إجراء منا.
    [one] طلب واحد بانتظار إجراء منا.
    [two] طلبان بانتظار إجراء منا.
    [few] { $count } طلبات بانتظار إجراء منا.
   *[other] { $count } طلبًا بانتظار إجراء منا.
}
dashboard-proposals = مقترحات مطروحة للتصويت
dashboard-proposals-count = { $count ->
    [0] لا يوجد مقترح مطروح للتصويت.
    [one] مقترح واحد مطروح للتصويت.
    [two] مقترحان مطروحان للتصويت.
    [few] { $count } مقترحات مطروحة للتصويت.
   *[other] عدد المقترحات المطروحة للتصويت: { $count }.
}
dashboard-recent = معلومات جديدة هذا الأسبوع
dashboard-recent-none = لا جديد هذا الأسبوع مما يحق لك الاطلاع عليه.
dashboard-log = سجل الشفافية
dashboard-log-none = لا توجد في السجل نقطة تحقق بعد.
dashboard-cosignatures = { $count ->
    [0] لم يوقّع أي نظير على نقطة التحقق هذه بعد.
    [one] وقّع عليها نظير واحد.
    [two] وقّع عليها نظيران.
    [few] وقّع عليها { $count } نظراء.
   *[other] وقّع عليها { $count } نظيرًا.
}

intel-title = المعلومات الاستخبارية
intel-none = لا يحق لك الاطلاع على أي مجموعة.
intel-filter-type = نوع الكائن
intel-filter = تصفية
intel-empty = لا توجد كائنات لعرضها.
intel-objects = الكائنات
intel-next = الصفحة التالية

object-type = النوع
object-name = الاسم
object-id = المعرّف
object-markings = العلامات
object-version = الإصدار
object-back = العودة إلى المجموعة
object-no-tlp = بلا علامة TLP
object-versions = { $count ->
    [one] إصدار واحد
    [two] إصداران
    [few] { $count } إصدارات
   *[other] { $count } إصدارًا
}
object-json = STIX JSON
object-who-else = من رأى هذا أيضًا
object-who-else-no-values = لا يحتوي هذا الكائن على أي قيمة قابلة للرصد للبحث عنها.
object-who-else-suppressed = مدرجة في قائمة تحذير، لا تُربط:
object-who-else-count = { $count ->
    [0] لا يحتوي عليها أي كائن آخر يمكنك قراءته.
    [one] يحتوي عليها كائن آخر واحد يمكنك قراءته
    [two] يحتوي عليها كائنان آخران يمكنك قراءتهما
    [few] يحتوي عليها { $count } كائنات أخرى يمكنك قراءتها
   *[other] يحتوي عليها { $count } كائنًا آخر يمكنك قراءته
}
object-who-else-members = { $count ->
    [one] (عضو واحد).
    [two] (عضوان).
    [few] ({ $count } أعضاء).
   *[other] ({ $count } عضوًا).
}

tlp-clear = TLP:CLEAR: الإفصاح غير مقيّد.
tlp-green = TLP:GREEN: إفصاح محدود داخل المجتمع.
tlp-amber = TLP:AMBER: إفصاح محدود لمنظمة المتلقي وعملائها.
tlp-amber-strict = TLP:AMBER+STRICT: إفصاح محدود لمنظمة المتلقي فقط.
tlp-red = TLP:RED: للمتلقين المعنيين بأشخاصهم فقط.
handling-h0 = لأغراض إنفاذ القانون فقط.
handling-h1 = لا يُستخدم في الإجراءات القضائية دون موافقة المصدر.
handling-h2 = لا يُعاد نشره دون موافقة المصدر.
handling-h3 = قيود أخرى مبيّنة في النص.

requests-title = طلبات التعاون
requests-new = صياغة طلب جديد
requests-inbox = الوارد: الطلبات الموجهة إلينا
requests-outbox = الصادر: طلباتنا
requests-count = { $count ->
    [0] لا توجد طلبات.
    [one] طلب واحد.
    [two] طلبان.
    [few] { $count } طلبات.
   *[other] { $count } طلبًا.
}

request-id = المعرّف
request-kind = النوع
request-partner = الشريك
request-requester = العضو الطالب
request-requested = العضو المطلوب منه
request-state = الحالة
request-due = الموعد النهائي (بتوقيتك)
request-due-partner = الموعد النهائي (بتوقيت الشريك)
request-emergency = عاجل
request-overdue = متأخر
request-acts = ما يمكنك القيام به
request-reason = السبب
request-until = الحفظ حتى (RFC 3339)
request-link = طلب المتابعة
request-conditions = الشروط
request-note = ملاحظة
request-timeline = السجل الموقّع
request-at = في
request-by = بواسطة
request-signature = التوقيع
request-document = وثيقة الطلب

draft-title = طلب جديد
draft-choose = اختيار
draft-to = العضو المطلوب منه (identity--…)
draft-emergency = حالة عاجلة (خطر وشيك على الحياة أو السلامة)
draft-emergency-justification = مبررات الاستعجال
draft-source = مطلوب بموجب
draft-save = حفظ كمسودة

kind-assistance = مساعدة (شبكة 24/7)
kind-preservation = الحفظ العاجل
kind-disclosure = الكشف العاجل عن بيانات الحركة
kind-production = أمر تقديم
kind-mla = المساعدة القانونية المتبادلة

field-authority-name = السلطة الطالبة
field-authority-contact = جهة الاتصال لدى السلطة
field-authority-time-zone = المنطقة الزمنية للسلطة
field-legal-basis-instrument = الصك القانوني
field-summary = ملخص الوقائع
field-offence = الجريمة
field-details-incident = الحادث
field-details-help-sought = المساعدة المطلوبة
field-details-data = البيانات المطلوب حفظها
field-details-relation-to-offence = صلة البيانات بالجريمة
field-details-custodian = حائز البيانات
field-details-necessity = ضرورة الحفظ
field-details-mla-to-follow = سيلي ذلك طلب مساعدة متبادلة
field-details-preservation = الحفظ السابق
field-details-communication = الاتصال المعني
field-details-categories = فئات البيانات (مفصولة بفواصل)
field-details-time-range-from = من
field-details-time-range-to = إلى
field-details-time-range-time-zone = المنطقة الزمنية للفترة
field-details-addressee = مقدم الخدمة الموجَّه إليه الأمر
field-details-purpose = الغرض من الطلب
field-details-assistance-sought = المساعدة المطلوبة
field-details-laws = القانون الواجب التطبيق
field-details-proceedings = الإجراءات المعنية

state-draft = مسودة
state-submitted = مُرسل
state-delivered = مُستلم
state-acknowledged = تم الإقرار بالاستلام
state-under-review = قيد الدراسة
state-info-requested = طُلبت معلومات
state-accepted = مقبول
state-accepted-with-conditions = مقبول بشروط
state-postponed = مؤجل
state-refused = مرفوض
state-in-execution = قيد التنفيذ
state-partially-executed = نُفّذ جزئيًا
state-executed = منفّذ
state-closed = مغلق
state-preserved = البيانات محفوظة
state-extended = مُمدّد
state-linked = مرتبط
state-lapsed = منقضٍ
state-released = رُفع الحفظ عن البيانات
state-withdrawn = مسحوب

act-submit = التوقيع والإرسال
act-deliver = تم الاستلام
act-retrieve = تم الفتح
act-acknowledge = الإقرار بالاستلام
act-review = بدء الدراسة
act-request-info = طلب معلومات
act-supply-info = تقديم معلومات
act-accept = قبول
act-accept-with-conditions = القبول بشروط
act-accept-conditions = قبول الشروط
act-postpone = تأجيل
act-resume = استئناف
act-refuse = رفض
act-execute = بدء التنفيذ
act-execute-partially = تسليم جزئي
act-complete = إتمام
act-close = إغلاق
act-preserve = تأكيد الحفظ
act-extend = تمديد الحفظ
act-link = ربط طلب المتابعة
act-lapse = تسجيل انقضاء المدة
act-release = رفع الحفظ عن البيانات
act-withdraw = سحب

reason-essential-interests = المصالح الأساسية (السيادة، الأمن، النظام العام)
reason-political-offence = جريمة سياسية
reason-dual-criminality = عدم استيفاء شرط ازدواجية التجريم
reason-immunity = الحصانات أو الامتيازات
reason-fundamental-rights = الحقوق الأساسية
reason-ne-bis-in-idem = عدم جواز المحاكمة على الفعل ذاته مرتين
reason-incomplete = طلب ناقص أو خاطئ بشكل واضح
reason-data-not-held = البيانات غير محفوظة لدينا
reason-impossible = التنفيذ مستحيل
reason-other = سبب آخر (في الملاحظة)

nav-governance = الحوكمة
nav-members = الأعضاء
governance-title = المقترحات
governance-proposals = المقترحات، الأحدث أولًا
governance-count = { $count ->
    [0] لم يُقدَّم أي مقترح.
    [one] مقترح واحد.
    [two] مقترحان.
    [few] { $count } مقترحات.
   *[other] عدد المقترحات: { $count }.
}
governance-back = العودة إلى المقترحات
norms-title = المعايير والقواعد
norms-registry = سجل المعايير
norms-count = { $count ->
    [0] لم يُعتمد أي معيار.
    [one] نسخة واحدة من معيار.
    [two] نسختان من المعايير.
    [few] { $count } نسخ من المعايير.
   *[other] عدد نسخ المعايير: { $count }.
}
norm-version = النسخة { $count }
norm-repealed = ملغاة
norm-in-force = نافذة
norm-decided = تقرّرت بموجب
norm-founded = اعتُمدت عند التأسيس بموجب الوثيقة التأسيسية
norm-id = المعيار
rules-title = القواعد النافذة
rules-voting-delay = المهلة قبل بدء التصويت
rules-voting-period = مدة التصويت
rules-execution-window = مهلة التنفيذ
rules-quorum = النصاب (نسبة الأعضاء النشطين)
rules-abstentions = تُحتسب الامتناعات في النصاب
rules-kinds = متطلبات كل نوع من المقترحات
rules-sponsors = الرعاة المطلوبون
duration-days = { $count ->
    [zero] { $count } أيام
    [one] يوم واحد
    [two] يومان
    [few] { $count } أيام
    [many] { $count } يومًا
   *[other] { $count } يومًا
}
duration-hours = { $count ->
    [zero] { $count } ساعات
    [one] ساعة واحدة
    [two] ساعتان
    [few] { $count } ساعات
    [many] { $count } ساعة
   *[other] { $count } ساعة
}
duration-minutes = { $count ->
    [zero] { $count } دقائق
    [one] دقيقة واحدة
    [two] دقيقتان
    [few] { $count } دقائق
    [many] { $count } دقيقة
   *[other] { $count } دقيقة
}
duration-seconds = { $count ->
    [zero] { $count } ثوانٍ
    [one] ثانية واحدة
    [two] ثانيتان
    [few] { $count } ثوانٍ
    [many] { $count } ثانية
   *[other] { $count } ثانية
}
proposal-kind = النوع
proposal-state = الحالة
proposal-proposer = مقدِّم المقترح
proposal-window = فترة التصويت
proposal-tally = فرز الأصوات
proposal-id = المعرِّف
proposal-sponsors = الرعاة
proposal-effect = ما سيترتب عليه
proposal-member = العضو
proposal-timeline = التسلسل الزمني
proposal-tabled = قُدِّم
proposal-voting-starts = بدء التصويت
proposal-deadline = الموعد النهائي
proposal-execution-ends = انتهاء مهلة التنفيذ
proposal-vote = التصويت باسم عضونا
proposal-vote-legend = صوت عضونا (يحل محله صوت لاحق حتى الموعد النهائي)
proposal-vote-submit = توقيع الصوت وإرساله
proposal-cancel = إلغاء هذا الاقتراح
proposal-cancel-explain = قدّمه عضونا ولم يبدأ التصويت بعد: يُوقَّع الإلغاء ويُرسل إلى كل عضو، ولن يُحتسب أي صوت.
proposal-cancel-submit = توقيع الإلغاء وإرساله
proposal-result = النتيجة
proposal-result-so-far = النتيجة حتى الآن (مؤقتة حتى الموعد النهائي)
proposal-quorum = النصاب
proposal-majority = الأغلبية
proposal-met = مستوفى
proposal-not-met = غير مستوفى
proposal-digest = بصمة النتيجة
proposal-not-executed = نجح المقترح، لكن تعذّر تطبيق أثره على هذه العقدة (انظر سجل العقدة).
proposal-ballots = الأصوات المحتسبة
proposal-ballots-count = { $count ->
    [0] لم يُحتسب أي صوت بعد.
    [one] صوت واحد محتسب.
    [two] صوتان محتسبان.
    [few] { $count } أصوات محتسبة.
   *[other] عدد الأصوات المحتسبة: { $count }.
}
proposal-choice = التصويت
proposal-refused = الأصوات المرفوضة
proposal-reason = السبب
proposal-kind-admit-member = قبول عضو
proposal-does-admit-member = يقبل عضوًا جديدًا بمفتاح عقدته وبلده.
proposal-kind-suspend-member = تعليق عضوية عضو
proposal-does-suspend-member = يعلّق عضوية عضو نشط.
proposal-kind-reinstate-member = إعادة عضو
proposal-does-reinstate-member = يعيد عضوًا معلّقًا.
proposal-kind-expel-member = طرد عضو
proposal-does-expel-member = يطرد عضوًا.
proposal-kind-adopt-norm = اعتماد معيار
proposal-does-adopt-norm = يعتمد معيارًا بالنصوص أدناه.
proposal-kind-amend-norm = تعديل معيار
proposal-does-amend-norm = يستبدل نصوص معيار معتمد بالنصوص أدناه.
proposal-kind-repeal-norm = إلغاء معيار
proposal-does-repeal-norm = يلغي معيارًا معتمدًا.
proposal-kind-change-rules = تغيير القواعد
proposal-does-change-rules = يضع القواعد أدناه موضع النفاذ.
proposal-kind-joint-statement = بيان مشترك
proposal-does-joint-statement = يعتمد بيانًا مشتركًا يوقّعه الأعضاء المصوّتون بنعم.
proposal-kind-revoke-member-key = إلغاء مفاتيح عضو
proposal-does-revoke-member-key = يلغي كل مفاتيح العضو المستخدمة ابتداءً من الوقت المذكور أدناه (بما فيها مفتاح سارق بدّله أولاً) ويثبّت المفاتيح الجديدة التي قدّمها العضو عبر قناة أخرى. يصوّت العضو المعني كأي عضو آخر، ولا يكفي صوته وحده أبداً.
proposal-revoked-from = المفاتيح ملغاة ابتداءً من
proposal-encryption-key = مفتاح التشفير
proposal-state-pending = معلّق
proposal-state-active = التصويت مفتوح
proposal-state-canceled = ملغى
proposal-state-defeated = مرفوض
proposal-state-succeeded = ناجح
proposal-state-executed = منفَّذ
proposal-state-expired = منتهي الصلاحية
choice-yes = نعم
choice-no = لا
choice-abstain = امتناع
decision-succeeded = ناجح
decision-defeated = مرفوض
decision-so-far-succeeded = ناجح حتى الآن
decision-so-far-defeated = مرفوض حتى الآن
refusal-malformed = صوت غير مقروء
refusal-other-proposal = صوت على مقترح آخر
refusal-unknown-member = لم يكن عضوًا عند التقديم
refusal-suspended = كان معلّقًا عند التقديم
refusal-bad-signature = التوقيع غير صالح
refusal-early = أُدلي به قبل بدء التصويت
refusal-late = أُدلي به بعد الموعد النهائي
refusal-replayed = الصوت نفسه ورد مرة أخرى
refusal-superseded = حلّ محله صوت لاحق
refusal-equivocation = أصوات متعارضة من العضو نفسه
members-title = الأعضاء والاتفاقات
members-directory = دليل الأعضاء
members-count = { $count ->
    [0] لا يوجد عضو مسجَّل.
    [one] عضو واحد.
    [two] عضوان.
    [few] { $count } أعضاء.
   *[other] عدد الأعضاء: { $count }.
}
member-name = الاسم
member-country = البلد
member-roles = الأدوار
member-status = الوضع
member-endpoint = عنوان العقدة
member-fingerprint = بصمة المفتاح
member-key = مفتاح العقدة
member-local = هذه العقدة
member-role-cert = فريق CERT/CSIRT وطني
member-role-police = وحدة الشرطة السيبرانية
member-role-judicial = سلطة قضائية
member-role-central-authority = السلطة المركزية
member-status-active = نشط
member-status-suspended = معلّق
agreements-title = اتفاقات التبادل
agreements-count = { $count ->
    [0] لا توجد اتفاقات بعد.
    [one] اتفاق واحد.
    [two] اتفاقان.
    [few] { $count } اتفاقات.
   *[other] عدد الاتفاقات: { $count }.
}
agreement-id = المعرِّف
agreement-parties = الأطراف
agreement-missing = بانتظار توقيع
agreement-types = أنواع الكائنات
agreement-max-tlp = أشد مستوى TLP تقييدًا
agreement-handling = رموز المعالجة المُلتزم بها
agreement-purposes = الأغراض
agreement-valid = مدة النفاذ
agreement-no-end = بلا نهاية
agreement-status-proposed = مقترح
agreement-status-active = نافذ
agreement-status-suspended = معلّق
agreement-status-terminated = منتهٍ

propose-title = تقديم مقترح
propose-norm = معرّف المعيار
propose-norm-hint = حتى 64 حرفًا لاتينيًا أو رقمًا أو «.» أو «_» أو «-»، مثل gge-2015-13f؛ وللتعديل أو الإلغاء، معرّف معيار نافذ.
propose-texts = نص المقترح
propose-texts-hint = { $count ->
    [one] اكتبه بلغة واحدة على الأقل، بحرف واحد كحد أقصى في كل لغة؛ واترك اللغات الأخرى فارغة.
    [two] اكتبه بلغة واحدة على الأقل، بحرفين كحد أقصى في كل لغة؛ واترك اللغات الأخرى فارغة.
    [few] اكتبه بلغة واحدة على الأقل، بما لا يزيد على { $count } أحرف في كل لغة؛ واترك اللغات الأخرى فارغة.
    [many] اكتبه بلغة واحدة على الأقل، بما لا يزيد على { $count } حرفًا في كل لغة؛ واترك اللغات الأخرى فارغة.
   *[other] اكتبه بلغة واحدة على الأقل، بما لا يزيد على { $count } حرف في كل لغة؛ واترك اللغات الأخرى فارغة.
}
propose-no-member = لا يوجد حاليًا عضو يمكن أن يكون موضوع هذا النوع من المقترحات.
propose-record = ملف سجل العضو
propose-record-hint = الصق الملف الذي كتبته عقدة المرشح (comity member show-local --out FILE): يُتحقق من توقيعه بالمفتاح الذي يحمله، فتأكّد من هذا المفتاح مع المرشح عبر قناة أخرى.
propose-rules = القواعد الجديدة (JSON)
propose-rules-hint = القواعد النافذة، عدّلها لتصبح القواعد المقترحة: المدد بالثواني، والنسب بالكسور مثل 2/3.
propose-revoked-from-hint = وقت بدء الاختراق بصيغة RFC 3339 مثل ⁦2026-12-01T00:00:00Z⁩: لا يُعتدّ بأي شيء وقّعته مفاتيح العضو منذ ذلك الحين.
propose-keys-hint = مفتاح الهوية الجديد ومفتاح التشفير كما طبعهما نظام العضو (comity key prepare)؛ تحقّق منهما مع العضو عبر قناة أخرى.
propose-sponsors-needed = { $count ->
    [0] لا يحتاج هذا النوع من المقترحات إلى أي راعٍ.
    [one] يحتاج هذا النوع من المقترحات إلى راعٍ واحد إضافةً إلى عضونا.
    [two] يحتاج هذا النوع من المقترحات إلى راعيين إضافةً إلى عضونا.
    [few] يحتاج هذا النوع من المقترحات إلى { $count } رعاة إضافةً إلى عضونا.
   *[other] يحتاج هذا النوع من المقترحات إلى { $count } راعيًا إضافةً إلى عضونا.
}
propose-no-sponsor = لا يوجد عضو نشط آخر يمكنه رعايته.
propose-too-few-sponsors = عدد الأعضاء الذين يمكنهم رعايته أقل مما تشترطه القواعد النافذة: سترفضه العقدة.
propose-explain = يوقّع التقديمُ المقترحَ باسم عضونا ويرسله إلى كل عضو نشط. ويمكن إلغاؤه حتى بدء التصويت.
propose-submit = توقيع المقترح وتقديمه
error-propose-text-long = { $count ->
    [one] لا يتجاوز النص حرفًا واحدًا.
    [two] لا يتجاوز النص حرفين.
    [few] لا يتجاوز النص { $count } أحرف.
    [many] لا يتجاوز النص { $count } حرفًا.
   *[other] لا يتجاوز النص { $count } حرف.
}
error-propose-text-empty = اكتب النص بلغة واحدة على الأقل.
error-propose-norm-empty = أدخل معرّف المعيار.
error-propose-member-empty = اختر العضو الذي يتعلق به المقترح.
error-propose-member-unknown = هذا العضو غير موجود في دليل الأعضاء.
error-propose-sponsor-unknown = أحد الرعاة غير موجود في دليل الأعضاء.
error-propose-record-empty = الصق ملف سجل العضو المرشح.
error-propose-record = رُفض ملف سجل العضو.
error-propose-rules-empty = أدخل القواعد المراد جعلها نافذة.
error-propose-rules = تتعذر قراءة هذه القواعد.
error-propose-revoked-from = اكتب الوقت بصيغة RFC 3339 مثل 2026-12-01T00:00:00Z.
error-propose-key-empty = اكتب مفتاح الهوية الجديد ومفتاح التشفير للعضو.
error-propose-key = رُفض أحد المفاتيح.
error-propose-refused = رفضت العقدة تقديم هذا المقترح.

nav-tokens = رموز الواجهة البرمجية
nav-admin = الإدارة
tokens-title = رموز الواجهة البرمجية (API)
tokens-explain = يتيح رمز الواجهة البرمجية لبرنامج (عميل TAXII أو مستشعر أو نص برمجي) أن يعمل باسمك عبر الواجهة البرمجية للعقدة، بدورك نفسه، إلى أن تنتهي صلاحيته أو يُلغى.
tokens-mine = رموزك
tokens-all = جميع رموز هذه العقدة
tokens-count = { $count ->
    [zero] لا يوجد أي رمز.
    [one] رمز واحد.
    [two] رمزان.
    [few] { $count } رموز.
    [many] { $count } رمزًا.
   *[other] { $count } رمز.
}
tokens-back = العودة إلى رموز الواجهة البرمجية
token-label = التسمية
token-id = المعرِّف
token-holder = الحائز
token-for-member = عضو نظير
token-created = تاريخ الإنشاء
token-expires = تاريخ انتهاء الصلاحية
token-never = أبدًا
token-state = الحالة
token-action = الإجراء
token-state-active = ساري
token-state-expired = منتهي الصلاحية
token-state-revoked = ملغى
token-revoke = إلغاء
token-new = رمز جديد
token-label-hint = { $count ->
    [one] الغرض منه، مثل «مزامنة MISP»: حرف واحد كحد أقصى.
    [two] الغرض منه، مثل «مزامنة MISP»: حرفان كحد أقصى.
    [few] الغرض منه، مثل «مزامنة MISP»: { $count } أحرف كحد أقصى.
    [many] الغرض منه، مثل «مزامنة MISP»: { $count } حرفًا كحد أقصى.
   *[other] الغرض منه، مثل «مزامنة MISP»: { $count } حرف كحد أقصى.
}
token-days = عدد الأيام حتى انتهاء الصلاحية
token-days-hint = { $count ->
    [one] من يوم واحد إلى يوم واحد.
    [two] من يوم واحد إلى يومين.
    [few] من يوم واحد إلى { $count } أيام.
    [many] من يوم واحد إلى { $count } يومًا.
   *[other] من يوم واحد إلى { $count } يوم.
}
token-member = إصداره لعضو نظير
token-member-hint = رمز العضو النظير لا يقرأ إلا طرق عرض السياسة المعدّة لذلك العضو.
token-member-none = لا: رمز لي أنا
token-create-explain = يُعرض الرمز مرة واحدة فقط في الصفحة التالية؛ ولا تحتفظ العقدة إلا ببصمته.
token-create = إنشاء الرمز
token-created-title = أُنشئ الرمز
token-secret = الرمز
token-use = ترسله البرامج في ترويسة:
secret-once = انسخه الآن: يُعرض هذه المرة فقط ولن يُعرض مرة أخرى أبدًا، ولن تستطيع العقدة أن تعرضه على أحد لاحقًا. احفظه بسرية كلمة المرور.
error-token-label = { $count ->
    [one] اكتب تسمية من حرف واحد، بلا محارف تحكم.
    [two] اكتب تسمية من حرف إلى حرفين، بلا محارف تحكم.
    [few] اكتب تسمية من حرف واحد إلى { $count } أحرف، بلا محارف تحكم.
    [many] اكتب تسمية من حرف واحد إلى { $count } حرفًا، بلا محارف تحكم.
   *[other] اكتب تسمية من حرف واحد إلى { $count } حرف، بلا محارف تحكم.
}
error-token-days = اكتب عددًا صحيحًا من الأيام بين 1 و{ $count }.
error-token-member = لا يمكن إصدار رمز لهذا العضو.
error-token-revoke = لا يمكن إلغاء هذا الرمز.

admin-title = الإدارة
admin-users = المستخدمون
admin-users-count = { $count ->
    [zero] لا يوجد أي مستخدم.
    [one] مستخدم واحد.
    [two] مستخدمان.
    [few] { $count } مستخدمين.
    [many] { $count } مستخدمًا.
   *[other] { $count } مستخدم.
}
admin-user = اسم المستخدم
admin-role = الدور
admin-change-role = تغيير الدور
admin-new-role = الدور الجديد للمستخدم
admin-set-role = تغيير
admin-you = أنت
role-viewer = مُطّلع (قراءة فقط)
role-analyst = محلل (يقرأ المعلومات الاستخبارية ويكتبها)
role-liaison = ضابط اتصال (طلبات التعاون)
role-admin = مسؤول
admin-new-user = إضافة مستخدم
admin-name-hint = { $count ->
    [one] حرف واحد كحد أقصى، بلا «:» ولا محارف تحكم.
    [two] حرفان كحد أقصى، بلا «:» ولا محارف تحكم.
    [few] { $count } أحرف كحد أقصى، بلا «:» ولا محارف تحكم.
    [many] { $count } حرفًا كحد أقصى، بلا «:» ولا محارف تحكم.
   *[other] { $count } حرف كحد أقصى، بلا «:» ولا محارف تحكم.
}
admin-password = كلمة المرور
admin-password-again = كلمة المرور مرة أخرى
admin-password-hint = { $count ->
    [one] اكتب مرتين كلمة مرور من حرف واحد على الأقل، أو اترك الحقلين فارغين لتُولَّد كلمة مرور وتُعرض مرة واحدة.
    [two] اكتب مرتين كلمة مرور من حرفين على الأقل، أو اترك الحقلين فارغين لتُولَّد كلمة مرور وتُعرض مرة واحدة.
    [few] اكتب مرتين كلمة مرور من { $count } أحرف على الأقل، أو اترك الحقلين فارغين لتُولَّد كلمة مرور وتُعرض مرة واحدة.
    [many] اكتب مرتين كلمة مرور من { $count } حرفًا على الأقل، أو اترك الحقلين فارغين لتُولَّد كلمة مرور وتُعرض مرة واحدة.
   *[other] اكتب مرتين كلمة مرور من { $count } حرف على الأقل، أو اترك الحقلين فارغين لتُولَّد كلمة مرور وتُعرض مرة واحدة.
}
admin-new-user-explain = تُسجَّل إضافة المستخدم، مثل تغيير الدور، في سجل الشفافية للعقدة (الاسم والدور، دون كلمة المرور أبدًا).
admin-add-user = إضافة المستخدم
admin-user-added = أُضيف المستخدم
admin-password-generated = كلمة المرور المولَّدة
admin-password-typed = يسجّل المستخدم دخوله بكلمة المرور التي كتبتها.
admin-back = العودة إلى الإدارة
admin-sessions = الجلسات المفتوحة لجميع المستخدمين
admin-sessions-count = { $count ->
    [zero] لا توجد أي جلسة مفتوحة.
    [one] جلسة مفتوحة واحدة.
    [two] جلستان مفتوحتان.
    [few] { $count } جلسات مفتوحة.
    [many] { $count } جلسة مفتوحة.
   *[other] { $count } جلسة مفتوحة.
}
error-admin-name = اسم المستخدم هذا مرفوض.
error-admin-exists = يوجد مستخدم بهذا الاسم بالفعل.
error-admin-no-user = لا يوجد مستخدم بهذا الاسم.
error-admin-role = اختر أحد الأدوار المعروضة.
error-admin-password-mismatch = كلمتا المرور مختلفتان.
error-admin-password-short = { $count ->
    [one] يجب أن تتكون كلمة المرور من حرف واحد على الأقل.
    [two] يجب أن تتكون كلمة المرور من حرفين على الأقل.
    [few] يجب أن تتكون كلمة المرور من { $count } أحرف على الأقل.
    [many] يجب أن تتكون كلمة المرور من { $count } حرفًا على الأقل.
   *[other] يجب أن تتكون كلمة المرور من { $count } حرف على الأقل.
}
error-admin-no-session = انتهت هذه الجلسة بالفعل.

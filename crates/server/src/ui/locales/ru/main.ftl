language-name = Русский
skip-to-content = Перейти к содержимому
nav-label = Главное меню
nav-dashboard = Сводка
nav-intel = Разведданные
nav-requests = Запросы
nav-sessions = Мои сеансы
pref-language = Язык
pref-time-zone = Часовой пояс
pref-apply = Применить
sign-out = Выйти
yes = Да
no = Нет

error-back = Вернуться к сводке
error-too-large = Форма слишком велика.
error-csrf = Срок действия формы истёк, или она отправлена не с этого сайта. Обновите страницу и повторите попытку.
error-forbidden = У вас нет права на это действие.
error-not-found = Не найдено.
error-throttled = Слишком много попыток. Подождите минуту и повторите.
error-invalid = Запрос недействителен.
error-internal = На сервере произошла ошибка. Инцидент записан в журнал.
error-busy = Слишком много пользователей в системе. Повторите попытку позже.
error-language = Этот язык недоступен.
error-time-zone = Неизвестный часовой пояс: укажите название вроде Europe/Moscow или UTC.

signin-title = Вход
signin-name = Имя пользователя
signin-password = Пароль
signin-submit = Войти
signin-failed = Неверное имя пользователя или пароль.
signin-throttled = Слишком много неудачных попыток. Подождите минуту, прежде чем повторить.

sessions-title = Мои сеансы
sessions-count = { $count ->
    [one] У вас { $count } открытый сеанс.
    [few] У вас { $count } открытых сеанса.
   *[other] У вас { $count } открытых сеансов.
}
sessions-since = Вход выполнен
sessions-browser = Браузер
sessions-action = Действие
sessions-current = текущий
sessions-revoke = Завершить этот сеанс

dashboard-title = Сводка
dashboard-waiting = Запросы, ожидающие наших действий
dashboard-waiting-count = { $count ->
    [0] Нет запросов, ожидающих наших действий.
    [one] { $count } запрос ожидает наших действий.
    [few] { $count } запроса ожидают наших действий.
   *[other] { $count } запросов ожидают наших действий.
}
dashboard-proposals = Предложения на голосовании
dashboard-proposals-count = { $count ->
    [0] Нет предложений на голосовании.
    [one] На голосовании { $count } предложение.
    [few] На голосовании { $count } предложения.
   *[many] На голосовании { $count } предложений.
}
dashboard-recent = Новые разведданные за неделю
dashboard-recent-none = За эту неделю нет ничего нового, доступного вам.
dashboard-log = Журнал прозрачности
dashboard-log-none = В журнале ещё нет контрольной точки.
dashboard-cosignatures = { $count ->
    [0] Ни один партнёр ещё не подписал эту контрольную точку.
    [one] Подписано { $count } партнёром.
   *[other] Подписано партнёрами: { $count }.
}

intel-title = Разведданные
intel-none = Вам не доступна ни одна коллекция.
intel-filter-type = Тип объекта
intel-filter = Отобрать
intel-empty = Нет объектов для показа.
intel-objects = Объекты
intel-next = Следующая страница

object-type = Тип
object-name = Название
object-id = Идентификатор
object-markings = Маркировка
object-version = Версия
object-back = Назад к коллекции
object-no-tlp = Без маркировки TLP
object-versions = { $count ->
    [one] { $count } версия
    [few] { $count } версии
   *[other] { $count } версий
}
object-json = JSON STIX
object-who-else = Кто ещё это видел
object-who-else-no-values = В этом объекте нет наблюдаемых значений для поиска.
object-who-else-suppressed = В списке предупреждений, не сопоставляется:
object-who-else-count = { $count ->
    [0] Ни один другой доступный вам объект его не содержит.
    [one] { $count } другой доступный вам объект содержит его
    [few] { $count } других доступных вам объекта содержат его
   *[other] { $count } других доступных вам объектов содержат его
}
object-who-else-members = { $count ->
    [one] ({ $count } участник).
    [few] ({ $count } участника).
   *[other] ({ $count } участников).
}

tlp-clear = TLP:CLEAR: распространение не ограничено.
tlp-green = TLP:GREEN: ограниченное распространение в пределах сообщества.
tlp-amber = TLP:AMBER: ограниченное распространение в организации получателя и среди её клиентов.
tlp-amber-strict = TLP:AMBER+STRICT: ограниченное распространение только в организации получателя.
tlp-red = TLP:RED: только для лично указанных получателей.
handling-h0 = Только для правоохранительных целей.
handling-h1 = Не использовать в судопроизводстве без согласия источника.
handling-h2 = Не распространять далее без согласия источника.
handling-h3 = Иные ограничения, указанные в тексте.

requests-title = Запросы о сотрудничестве
requests-new = Составить новый запрос
requests-inbox = Входящие: запросы к нам
requests-outbox = Исходящие: наши запросы
requests-count = { $count ->
    [0] Запросов нет.
    [one] { $count } запрос.
    [few] { $count } запроса.
   *[other] { $count } запросов.
}

request-id = Идентификатор
request-kind = Вид
request-partner = Партнёр
request-requester = Запрашивающий участник
request-requested = Запрашиваемый участник
request-state = Состояние
request-due = Срок (ваше время)
request-due-partner = Срок (время партнёра)
request-emergency = Срочно
request-overdue = Просрочен
request-acts = Доступные действия
request-reason = Основание
request-until = Сохранять до (RFC 3339)
request-link = Последующий запрос
request-conditions = Условия
request-note = Примечание
request-timeline = Подписанная история
request-at = Время
request-by = кто
request-signature = Подпись
request-document = Документ запроса

draft-title = Новый запрос
draft-choose = Выбрать
draft-to = Запрашиваемый участник (identity--…)
draft-emergency = Срочный случай (непосредственная угроза жизни или безопасности)
draft-emergency-justification = Обоснование срочности
draft-source = Требуется согласно
draft-save = Сохранить черновик

kind-assistance = Помощь (сеть 24/7)
kind-preservation = Оперативное обеспечение сохранности
kind-disclosure = Оперативное раскрытие данных о трафике
kind-production = Распоряжение о предоставлении
kind-mla = Взаимная правовая помощь

field-authority-name = Запрашивающий орган
field-authority-contact = Контакт органа
field-authority-time-zone = Часовой пояс органа
field-legal-basis-instrument = Правовой документ
field-summary = Краткое изложение фактов
field-offence = Преступление
field-details-incident = Инцидент
field-details-help-sought = Запрашиваемая помощь
field-details-data = Данные для сохранения
field-details-relation-to-offence = Связь данных с преступлением
field-details-custodian = Хранитель данных
field-details-necessity = Необходимость сохранения
field-details-mla-to-follow = Последует запрос о взаимной помощи
field-details-preservation = Предшествующее сохранение
field-details-communication = Соответствующая передача данных
field-details-categories = Категории данных (через запятую)
field-details-time-range-from = С
field-details-time-range-to = По
field-details-time-range-time-zone = Часовой пояс периода
field-details-addressee = Адресат — поставщик услуг
field-details-purpose = Цель запроса
field-details-assistance-sought = Запрашиваемая помощь
field-details-laws = Применимое право
field-details-proceedings = Соответствующее производство

state-draft = Черновик
state-submitted = Отправлен
state-delivered = Доставлен
state-acknowledged = Получение подтверждено
state-under-review = На рассмотрении
state-info-requested = Запрошены сведения
state-accepted = Принят
state-accepted-with-conditions = Принят с условиями
state-postponed = Отложен
state-refused = Отклонён
state-in-execution = Исполняется
state-partially-executed = Частично исполнен
state-executed = Исполнен
state-closed = Закрыт
state-preserved = Данные сохранены
state-extended = Продлён
state-linked = Связан
state-lapsed = Срок истёк
state-released = Данные освобождены
state-withdrawn = Отозван

act-submit = Подписать и отправить
act-deliver = Доставлен
act-retrieve = Открыт
act-acknowledge = Подтвердить получение
act-review = Начать рассмотрение
act-request-info = Запросить сведения
act-supply-info = Предоставить сведения
act-accept = Принять
act-accept-with-conditions = Принять с условиями
act-accept-conditions = Принять условия
act-postpone = Отложить
act-resume = Возобновить
act-refuse = Отклонить
act-execute = Начать исполнение
act-execute-partially = Передать часть
act-complete = Завершить
act-close = Закрыть
act-preserve = Подтвердить сохранение
act-extend = Продлить сохранение
act-link = Связать последующий запрос
act-lapse = Отметить истечение срока
act-release = Освободить данные
act-withdraw = Отозвать

reason-essential-interests = Существенные интересы (суверенитет, безопасность, публичный порядок)
reason-political-offence = Политическое преступление
reason-dual-criminality = Не соблюдено условие двойной криминальности
reason-immunity = Иммунитеты или привилегии
reason-fundamental-rights = Основные права
reason-ne-bis-in-idem = Ne bis in idem
reason-incomplete = Запрос неполон или явно ошибочен
reason-data-not-held = Данные отсутствуют
reason-impossible = Исполнение невозможно
reason-other = Иное основание (в примечании)

nav-governance = Управление
nav-members = Члены
governance-title = Предложения
governance-proposals = Предложения, сначала новые
governance-count = { $count ->
    [0] Предложений не внесено.
    [one] { $count } предложение.
    [few] { $count } предложения.
   *[many] { $count } предложений.
}
governance-back = Назад к предложениям
norms-title = Нормы и правила
norms-registry = Реестр норм
norms-count = { $count ->
    [0] Нормы не приняты.
    [one] { $count } версия нормы.
    [few] { $count } версии норм.
   *[many] { $count } версий норм.
}
norm-version = версия { $count }
norm-repealed = Отменена
norm-in-force = Действует
norm-decided = Решение принято по предложению
norm-founded = Принята при учреждении, учредительным документом
norm-id = Норма
rules-title = Действующие правила
rules-voting-delay = Задержка до начала голосования
rules-voting-period = Срок голосования
rules-execution-window = Срок исполнения
rules-quorum = Кворум (доля активных членов)
rules-abstentions = Воздержавшиеся учитываются в кворуме
rules-kinds = Требования к каждому виду предложений
rules-sponsors = Нужно соавторов
duration-days = { $count ->
    [one] { $count } день
    [few] { $count } дня
   *[many] { $count } дней
}
duration-hours = { $count ->
    [one] { $count } час
    [few] { $count } часа
   *[many] { $count } часов
}
duration-minutes = { $count ->
    [one] { $count } минута
    [few] { $count } минуты
   *[many] { $count } минут
}
duration-seconds = { $count ->
    [one] { $count } секунда
    [few] { $count } секунды
   *[many] { $count } секунд
}
proposal-kind = Вид
proposal-state = Состояние
proposal-proposer = Автор
proposal-window = Период голосования
proposal-tally = Подсчёт
proposal-id = Идентификатор
proposal-sponsors = Соавторы
proposal-effect = Что оно изменит
proposal-member = Член
proposal-timeline = Хронология
proposal-tabled = Внесено
proposal-voting-starts = Начало голосования
proposal-deadline = Окончание голосования
proposal-execution-ends = Конец срока исполнения
proposal-vote = Голосовать от имени нашего члена
proposal-vote-legend = Бюллетень нашего члена (более поздний заменяет его до окончания)
proposal-vote-submit = Подписать и подать бюллетень
proposal-cancel = Отозвать это предложение
proposal-cancel-explain = Его внёс наш член, и голосование ещё не открыто: отзыв подписывается и направляется каждому члену, и ни один бюллетень не будет учтён.
proposal-cancel-submit = Подписать и направить отзыв
proposal-result = Результат
proposal-result-so-far = Предварительный результат (до окончания)
proposal-quorum = Кворум
proposal-majority = Большинство
proposal-met = достигнуто
proposal-not-met = не достигнуто
proposal-digest = Хеш результата
proposal-not-executed = Предложение принято, но его действие не удалось применить на этом узле (см. журнал узла).
proposal-ballots = Учтённые бюллетени
proposal-ballots-count = { $count ->
    [0] Пока не учтено ни одного бюллетеня.
    [one] Учтён { $count } бюллетень.
    [few] Учтено { $count } бюллетеня.
   *[many] Учтено { $count } бюллетеней.
}
proposal-choice = Голос
proposal-refused = Отклонённые бюллетени
proposal-reason = Причина
proposal-kind-admit-member = Приём члена
proposal-does-admit-member = Принимает нового члена с ключом его узла и его страной.
proposal-kind-suspend-member = Приостановление членства
proposal-does-suspend-member = Приостанавливает членство активного члена.
proposal-kind-reinstate-member = Восстановление членства
proposal-does-reinstate-member = Восстанавливает приостановленного члена.
proposal-kind-expel-member = Исключение члена
proposal-does-expel-member = Исключает члена.
proposal-kind-adopt-norm = Принятие нормы
proposal-does-adopt-norm = Принимает норму в приведённых ниже текстах.
proposal-kind-amend-norm = Изменение нормы
proposal-does-amend-norm = Заменяет тексты принятой нормы приведёнными ниже.
proposal-kind-repeal-norm = Отмена нормы
proposal-does-repeal-norm = Отменяет принятую норму.
proposal-kind-change-rules = Изменение правил
proposal-does-change-rules = Вводит в действие приведённые ниже правила.
proposal-kind-joint-statement = Совместное заявление
proposal-does-joint-statement = Принимает совместное заявление, подписываемое проголосовавшими «за».
proposal-kind-revoke-member-key = Отзыв ключей участника
proposal-does-revoke-member-key = Отзывает все ключи участника, использованные начиная с указанного ниже момента (включая ключ похитителя, который первым провёл ротацию), и закрепляет новые ключи, переданные участником по другому каналу. Затронутый участник голосует как любой другой, и одного его голоса никогда не достаточно.
proposal-revoked-from = Ключи отозваны с
proposal-encryption-key = Ключ шифрования
proposal-state-pending = Ожидает
proposal-state-active = Идёт голосование
proposal-state-canceled = Отозвано
proposal-state-defeated = Отклонено
proposal-state-succeeded = Принято
proposal-state-executed = Исполнено
proposal-state-expired = Истекло
choice-yes = За
choice-no = Против
choice-abstain = Воздержался
decision-succeeded = Принято
decision-defeated = Отклонено
decision-so-far-succeeded = Пока принимается
decision-so-far-defeated = Пока отклоняется
refusal-malformed = Нечитаемый бюллетень
refusal-other-proposal = Бюллетень по другому предложению
refusal-unknown-member = Не был членом при внесении
refusal-suspended = Был приостановлен при внесении
refusal-bad-signature = Подпись не проверяется
refusal-early = Подан до начала голосования
refusal-late = Подан после окончания
refusal-replayed = Тот же бюллетень получен повторно
refusal-superseded = Заменён более поздним бюллетенем
refusal-equivocation = Противоречащие бюллетени одного члена
members-title = Члены и соглашения
members-directory = Справочник членов
members-count = { $count ->
    [0] Члены не зарегистрированы.
    [one] { $count } член.
    [few] { $count } члена.
   *[many] { $count } членов.
}
member-name = Название
member-country = Страна
member-roles = Функции
member-status = Статус
member-endpoint = Адрес узла
member-fingerprint = Отпечаток ключа
member-key = Ключ узла
member-local = этот узел
member-role-cert = Национальный CERT/CSIRT
member-role-police = Киберподразделение полиции
member-role-judicial = Судебный орган
member-role-central-authority = Центральный орган
member-status-active = Активен
member-status-suspended = Приостановлен
agreements-title = Соглашения об обмене
agreements-count = { $count ->
    [0] Соглашений пока нет.
    [one] { $count } соглашение.
    [few] { $count } соглашения.
   *[many] { $count } соглашений.
}
agreement-id = Идентификатор
agreement-parties = Стороны
agreement-missing = Ожидается подпись
agreement-types = Типы объектов
agreement-max-tlp = Самый строгий TLP
agreement-handling = Соблюдаемые коды обращения
agreement-purposes = Цели
agreement-valid = Срок действия
agreement-no-end = бессрочно
agreement-status-proposed = Предложено
agreement-status-active = Действует
agreement-status-suspended = Приостановлено
agreement-status-terminated = Прекращено

propose-title = Внести предложение
propose-norm = Идентификатор нормы
propose-norm-hint = До 64 латинских букв, цифр, «.», «_» или «-», например gge-2015-13f; для изменения или отмены — идентификатор действующей нормы.
propose-texts = Текст предложения
propose-texts-hint = { $count ->
    [one] Напишите его хотя бы на одном языке, не более { $count } символа на каждом; остальные языки оставьте пустыми.
   *[other] Напишите его хотя бы на одном языке, не более { $count } символов на каждом; остальные языки оставьте пустыми.
}
propose-no-member = Сейчас ни один член не может быть предметом предложения такого вида.
propose-record = Файл учётной записи члена
propose-record-hint = Вставьте файл, записанный узлом кандидата (comity member show-local --out ФАЙЛ): его подпись проверяется по ключу, который он содержит; подтвердите этот ключ с кандидатом по другому каналу.
propose-rules = Новые правила (JSON)
propose-rules-hint = Действующие правила, которые нужно изменить до предлагаемых: сроки в секундах, доли в виде дробей, например 2/3.
propose-revoked-from-hint = Начало компрометации во времени RFC 3339, например 2026-12-01T00:00:00Z: всё, что ключи участника подписали с тех пор, недействительно.
propose-keys-hint = Новый ключ идентичности и ключ шифрования в том виде, как их вывел узел участника (comity key prepare); подтвердите их с участником по другому каналу.
propose-sponsors-needed = { $count ->
    [0] Предложению такого вида соавторы не нужны.
    [one] Предложению такого вида нужен { $count } соавтор помимо нашего члена.
    [few] Предложению такого вида нужны { $count } соавтора помимо нашего члена.
   *[other] Предложению такого вида нужно { $count } соавторов помимо нашего члена.
}
propose-no-sponsor = Ни один другой активный член не может стать его соавтором.
propose-too-few-sponsors = Стать соавторами могут меньше членов, чем требуют действующие правила: узел отклонит предложение.
propose-explain = При внесении предложение подписывается от имени нашего члена и направляется каждому активному члену. Его можно отозвать до начала голосования.
propose-submit = Подписать и внести предложение
error-propose-text-long = { $count ->
    [one] Текст может содержать не более { $count } символа.
   *[other] Текст может содержать не более { $count } символов.
}
error-propose-text-empty = Напишите текст хотя бы на одном языке.
error-propose-norm-empty = Укажите идентификатор нормы.
error-propose-member-empty = Выберите члена, которого касается предложение.
error-propose-member-unknown = Этого члена нет в справочнике членов.
error-propose-sponsor-unknown = Одного из соавторов нет в справочнике членов.
error-propose-record-empty = Вставьте файл учётной записи кандидата.
error-propose-record = Файл учётной записи члена отклонён.
error-propose-rules-empty = Укажите правила, которые должны вступить в силу.
error-propose-rules = Эти правила не удаётся прочитать.
error-propose-revoked-from = Укажите время в формате RFC 3339, например 2026-12-01T00:00:00Z.
error-propose-key-empty = Укажите новый ключ идентичности и ключ шифрования участника.
error-propose-key = Ключ отклонён.
error-propose-refused = Узел отказался вносить это предложение.

nav-tokens = Токены API
nav-admin = Администрирование
tokens-title = Токены API
tokens-explain = Токен API позволяет программе (клиенту TAXII, датчику, сценарию) действовать от вашего имени через API узла, с вашей ролью, пока срок его действия не истечёт или он не будет отозван.
tokens-mine = Ваши токены
tokens-all = Все токены этого узла
tokens-count = { $count ->
    [0] Токенов нет.
    [one] { $count } токен.
    [few] { $count } токена.
   *[other] { $count } токенов.
}
tokens-back = Назад к токенам API
token-label = Метка
token-id = Идентификатор
token-holder = Владелец
token-for-member = член-партнёр
token-created = Создан
token-expires = Истекает
token-never = никогда
token-state = Состояние
token-action = Действие
token-state-active = Действует
token-state-expired = Истёк
token-state-revoked = Отозван
token-revoke = Отозвать
token-new = Новый токен
token-label-hint = { $count ->
    [one] Назначение, например «синхронизация MISP»: не более { $count } символа.
    [few] Назначение, например «синхронизация MISP»: не более { $count } символов.
   *[other] Назначение, например «синхронизация MISP»: не более { $count } символов.
}
token-days = Дней до истечения срока
token-days-hint = { $count ->
    [one] От 1 до { $count } дня.
   *[other] От 1 до { $count } дней.
}
token-member = Выдать члену-партнёру
token-member-hint = Токен члена-партнёра читает только представления политики, созданные для этого члена.
token-member-none = Нет: токен для меня
token-create-explain = Токен показывается один раз, на следующей странице; узел хранит только его хеш.
token-create = Создать токен
token-created-title = Токен создан
token-secret = Токен
token-use = Программы передают его в заголовке:
secret-once = Скопируйте его сейчас: он показан в этот раз и больше никогда не будет показан, и узел не сможет показать его никому позже. Храните его в такой же тайне, как пароль.
error-token-label = { $count ->
    [one] Укажите метку длиной от 1 до { $count } символа, без управляющих символов.
   *[other] Укажите метку длиной от 1 до { $count } символов, без управляющих символов.
}
error-token-days = Укажите целое число дней от 1 до { $count }.
error-token-member = Этому члену нельзя выдать токен.
error-token-revoke = Этот токен нельзя отозвать.

admin-title = Администрирование
admin-users = Пользователи
admin-users-count = { $count ->
    [0] Пользователей нет.
    [one] { $count } пользователь.
    [few] { $count } пользователя.
   *[other] { $count } пользователей.
}
admin-user = Имя пользователя
admin-role = Роль
admin-change-role = Изменить роль
admin-new-role = Новая роль пользователя
admin-set-role = Изменить
admin-you = вы
role-viewer = Читатель (читает)
role-analyst = Аналитик (читает и записывает разведданные)
role-liaison = Офицер связи (запросы о сотрудничестве)
role-admin = Администратор
admin-new-user = Добавить пользователя
admin-name-hint = { $count ->
    [one] Не более { $count } символа, без «:» и управляющих символов.
   *[other] Не более { $count } символов, без «:» и управляющих символов.
}
admin-password = Пароль
admin-password-again = Пароль ещё раз
admin-password-hint = { $count ->
    [one] Введите дважды пароль не короче { $count } символа или оставьте оба поля пустыми, чтобы пароль был создан и показан один раз.
   *[other] Введите дважды пароль не короче { $count } символов или оставьте оба поля пустыми, чтобы пароль был создан и показан один раз.
}
admin-new-user-explain = Добавление пользователя, как и смена роли, записывается в журнал прозрачности узла (имя и роль, но никогда не пароль).
admin-add-user = Добавить пользователя
admin-user-added = Пользователь добавлен
admin-password-generated = Созданный пароль
admin-password-typed = Пользователь входит с паролем, который вы ввели.
admin-back = Назад к администрированию
admin-sessions = Открытые сеансы всех пользователей
admin-sessions-count = { $count ->
    [0] Открытых сеансов нет.
    [one] { $count } открытый сеанс.
    [few] { $count } открытых сеанса.
   *[other] { $count } открытых сеансов.
}
error-admin-name = Это имя пользователя не принято.
error-admin-exists = Пользователь с таким именем уже есть.
error-admin-no-user = Такого пользователя нет.
error-admin-role = Выберите одну из предложенных ролей.
error-admin-password-mismatch = Пароли не совпадают.
error-admin-password-short = { $count ->
    [one] Пароль должен содержать не менее { $count } символа.
   *[other] Пароль должен содержать не менее { $count } символов.
}
error-admin-no-session = Этот сеанс уже завершён.
